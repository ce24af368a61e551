import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CliError, type Command } from '../../../bin/cli/command.js';
import { dispatch } from '../../../bin/cli/dispatch.js';
import { commands } from '../../../bin/commands/index.js';
import { TARGET_OUTPUT } from '../../../core/constants.js';

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function cdcp(
  argv: string[],
  list: readonly Command[] = commands,
  env: NodeJS.ProcessEnv = {},
): Promise<Run> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => {
    out += c.toString();
  });
  stderr.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const code = await dispatch(list, argv, {
    stdout,
    stderr,
    stdin: Readable.from([]),
    env,
  });
  return { code, stdout: out, stderr: err };
}

/** Groups that are not also a command (`cdcp local workers` lists the workers of a run). */
const groups = [
  ...new Set(commands.flatMap((c) => c.path.slice(0, -1).map((_, i) => c.path.slice(0, i + 1).join(' ')))),
].filter((group) => !commands.some((c) => c.path.join(' ') === group));

const savedRuntimeFile = process.env.CDCP_RUNTIME_FILE;
beforeAll(() => {
  process.env.CDCP_RUNTIME_FILE = '/nonexistent/cdcp-runtime.json';
});
afterAll(() => {
  if (savedRuntimeFile === undefined) delete process.env.CDCP_RUNTIME_FILE;
  else process.env.CDCP_RUNTIME_FILE = savedRuntimeFile;
});

describe('Function: dispatch', () => {
  describe('help', () => {
    it.each(commands.map((c) => [c.path.join(' '), c] as const))(
      'cdcp %s --help and -h',
      async (words, command) => {
        for (const flag of ['--help', '-h']) {
          const run = await cdcp([...command.path, flag]);
          expect(run.code).toBe(0);
          expect(run.stderr).toBe('');
          expect(run.stdout.startsWith(`Usage: cdcp ${words}`)).toBe(true);
          expect(run.stdout).toContain('--debug');
          if (command.target === 'any')
            expect(run.stdout).toMatch(
              /--stack NAME[\s\S]*--region REGION[\s\S]*--profile NAME[\s\S]*--local/,
            );
          if (command.json) expect(run.stdout).toContain('--json');
          if (command.destructive) expect(run.stdout).toMatch(/--dry-run[\s\S]*-y, --yes/);
        }
      },
    );

    it.each(groups)('cdcp %s lists the commands of the group', async (group) => {
      const run = await cdcp(group.split(' '));
      const under = commands.filter((c) => c.path.join(' ').startsWith(`${group} `));
      expect(run.code).toBe(0);
      expect(under.length).toBeGreaterThan(0);
      for (const c of under) expect(run.stdout).toContain(`cdcp ${c.path.join(' ')}`);
    });

    it('cdcp alone and cdcp --help list every command; --version prints the package version', async () => {
      const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
      for (const argv of [[], ['--help'], ['-h']]) {
        const run = await cdcp(argv);
        expect(run.code).toBe(0);
        for (const c of commands) expect(run.stdout).toContain(`cdcp ${c.path.join(' ')}`);
      }
      expect(await cdcp(['--version'])).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    });
  });

  describe('unknown words', () => {
    it.each([
      [
        ['frobnicate'],
        'cdcp: unknown command "frobnicate"; the commands are parked, failures, decode, config, local, status, scale, worker (run `cdcp --help`)',
      ],
      [
        ['parked', 'frobnicate'],
        'cdcp parked: unknown command "frobnicate"; the commands are list, replay, discard (run `cdcp parked --help`)',
      ],
      [
        ['local', 'workers', 'frobnicate'],
        'cdcp local workers: unknown command "frobnicate"; the commands are add, remove, kill (run `cdcp local workers --help`)',
      ],
      [
        ['scale', 'plan', '--frobnicate'],
        "cdcp scale plan: Unknown option '--frobnicate'. Run with --help for the options.",
      ],
    ])('cdcp %j: one line on stderr, exit 2', async (argv, message) => {
      const run = await cdcp(argv);
      expect(run).toEqual({ code: 2, stdout: '', stderr: `${message}\n` });
    });
  });

  describe('errors', () => {
    const failing = (error: unknown): Command => ({
      path: ['fail'],
      usage: 'fail',
      summary: 'fails',
      options: {},
      run: async () => {
        throw error;
      },
    });

    it('prints a CliError as one line with its exit code', async () => {
      const run = await cdcp(['fail'], [failing(new CliError('what went wrong\nand what to do', 3))]);
      expect(run).toEqual({ code: 3, stdout: '', stderr: 'cdcp fail: what went wrong and what to do\n' });
    });

    it('prints any other error as one line naming it, and its stack trace with --debug', async () => {
      const error = new TypeError('cannot read x\nof undefined');
      const plain = await cdcp(['fail'], [failing(error)]);
      const debug = await cdcp(['fail', '--debug'], [failing(error)]);

      expect(plain).toEqual({
        code: 1,
        stdout: '',
        stderr: 'cdcp fail: TypeError: cannot read x of undefined (run with --debug for the stack trace)\n',
      });
      expect(debug.code).toBe(1);
      expect(debug.stderr.split('\n')[0]).toBe('cdcp fail: TypeError: cannot read x of undefined');
      expect(debug.stderr).toContain('at ');
    });
  });

  describe('--dry-run and --yes', () => {
    const destructive: Command = {
      path: ['wipe'],
      usage: 'wipe',
      summary: 'removes things',
      options: {},
      destructive: true,
      run: async (ctx) => {
        const go = await ctx.confirm!('wipe everything');
        ctx.stdout.write(go ? 'wiped\n' : 'nothing changed\n');
        return 0;
      },
    };

    it('never acts under --dry-run, acts with --yes, and refuses without a terminal to ask on', async () => {
      expect(await cdcp(['wipe', '--dry-run'], [destructive])).toMatchObject({
        code: 0,
        stdout: 'nothing changed\n',
      });
      expect(await cdcp(['wipe', '--dry-run', '--yes'], [destructive])).toMatchObject({
        stdout: 'nothing changed\n',
      });
      expect(await cdcp(['wipe', '-y'], [destructive])).toMatchObject({ code: 0, stdout: 'wiped\n' });
      expect(await cdcp(['wipe'], [destructive])).toEqual({
        code: 2,
        stdout: '',
        stderr:
          'cdcp wipe: refusing to wipe everything without --yes: standard input is not a terminal to ask on (or pass --dry-run to see what would change)\n',
      });
    });
  });

  describe('targets', () => {
    const cloudFormation = mockClient(CloudFormationClient);
    afterEach(() => cloudFormation.reset());
    const region = {};

    it('needs a target: --stack, CDCP_STACK, or a running npm start, and never two', async () => {
      expect((await cdcp(['parked', 'list'])).stderr).toBe(
        'cdcp parked list: no target: pass --stack NAME (a deployed stack) or set CDCP_STACK, or start `npm start` in this folder\n',
      );
      expect((await cdcp(['parked', 'list', '--local'])).stderr).toMatch(
        /^cdcp parked list: no `npm start` is running in this folder \(no live run in \/nonexistent\/cdcp-runtime\.json\); start one with `npm start`\n$/,
      );
      expect((await cdcp(['parked', 'list', '--local', '--stack', 'S'])).stderr).toBe(
        'cdcp parked list: --local and --stack S name two targets; pass one\n',
      );
    });

    // DescribeStacks is a control-plane API with no local engine: mocked with aws-sdk-client-mock.
    it.each([
      [
        [],
        'stack S has no "CdcpTarget" output: it holds no CdcProcessor, or was deployed with an older cdc-event-processor; deploy it with this version',
      ],
      [
        [
          {
            OutputKey: 'ACdcpTarget1',
            OutputValue: '{}',
            Description: `${TARGET_OUTPUT.descriptionPrefix} a`,
          },
          {
            OutputKey: 'BCdcpTarget2',
            OutputValue: '{}',
            Description: `${TARGET_OUTPUT.descriptionPrefix} b`,
          },
        ],
        'stack S holds 2 CdcProcessors (outputs ACdcpTarget1, BCdcpTarget2); cdcp acts on stacks with one',
      ],
      [
        [{ OutputKey: 'CdcpTarget1', OutputValue: 'not json', Description: TARGET_OUTPUT.descriptionPrefix }],
        `stack S's output CdcpTarget1 is not JSON; received "not json"`,
      ],
      [
        [
          {
            OutputKey: 'CdcpTarget1',
            OutputValue: '{"version":99}',
            Description: TARGET_OUTPUT.descriptionPrefix,
          },
        ],
        "stack S's output CdcpTarget1 is not a cdcp target of version 2",
      ],
    ])('refuses a stack whose outputs are %j', async (outputs, message) => {
      cloudFormation.on(DescribeStacksCommand, { StackName: 'S' }).resolves({
        Stacks: [
          { StackName: 'S', CreationTime: new Date(), StackStatus: 'CREATE_COMPLETE', Outputs: outputs },
        ],
      });
      const run = await cdcp(['status', '--stack', 'S', '--region', 'eu-west-1'], commands, region);
      expect(run.code).toBe(2);
      expect(run.stderr.split('\n')).toHaveLength(2);
      expect(run.stderr).toContain(`cdcp status: ${message}`);
    });

    it('says when the stack does not exist in the region', async () => {
      cloudFormation
        .on(DescribeStacksCommand)
        .rejects(Object.assign(new Error('Stack with id Nope does not exist'), { name: 'ValidationError' }));
      const run = await cdcp(['status', '--stack', 'Nope', '--region', 'ap-south-1'], commands, region);
      expect(run).toEqual({
        code: 2,
        stdout: '',
        stderr: 'cdcp status: stack Nope does not exist in ap-south-1; check --stack and --region\n',
      });
    });
  });
});
