import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { REASON } from '../../../core/events/index.js';

describe('Reason codes', () => {
  it('are each documented in docs/formats.md', () => {
    const docs = readFileSync(new URL('../../../docs/formats.md', import.meta.url), 'utf8');
    const documented = [...docs.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);

    expect(documented.sort()).toEqual(Object.values(REASON).sort());
  });

  it('are each their own key', () => {
    expect(Object.entries(REASON).every(([key, value]) => key === value)).toBe(true);
  });
});
