import { describe, expect, it } from 'vitest';
import { mirrorProjection } from '../../../core/processing/projection.js';
import { projectionFromModule } from '../../../projection-module/projection-export.js';

describe('Function: projectionFromModule', () => {
  it('takes a resolveConflict function for the custom conflict strategy', () => {
    const resolveConflict = () => 'skip' as const;

    const projection = projectionFromModule({ default: { ...mirrorProjection, resolveConflict } }, 'p.mjs');

    expect(projection.resolveConflict).toBe(resolveConflict);
  });

  it('refuses a resolveConflict that is not a function, saying what it must be', () => {
    expect(() =>
      projectionFromModule(
        { default: { ...mirrorProjection, resolveConflict: 'last-writer-wins' } },
        'p.mjs',
      ),
    ).toThrow(
      `the default export of p.mjs is not a projection: resolveConflict, when exported, must be a function (input) => 'apply' | 'skip' | { park }, received string "last-writer-wins"`,
    );
  });
});
