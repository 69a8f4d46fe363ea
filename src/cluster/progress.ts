// Progress on stderr: listr2 (spinner + elapsed time per step) on a TTY, one plain line per step otherwise.
import { Listr, ListrLogger, PRESET_TIMER, ProcessOutput } from 'listr2';

export interface Step {
  title: string;
  /** Returns a short result shown after the title. */
  run: (setOutput: (text: string) => void) => Promise<string>;
  /** Evaluated when the step's turn comes: true → not run (an earlier step stopped the run). */
  skip?: () => boolean;
}

export interface RunStepsOptions {
  /** Force plain lines even on a TTY (also via SERVERLESS_MESH_PLAIN=1). */
  plain?: boolean;
  stream?: NodeJS.WriteStream;
}

/** Runs steps in order. A thrown error ends the run and is rethrown after the progress output is flushed. */
export async function runSteps(steps: Step[], opts: RunStepsOptions = {}): Promise<void> {
  const stream = opts.stream ?? process.stderr;
  const tty = !!stream.isTTY && !opts.plain && !process.env.SERVERLESS_MESH_PLAIN && process.env.TERM !== 'dumb';
  return tty ? runListr(steps, stream) : runPlain(steps, stream);
}

async function runPlain(steps: Step[], stream: NodeJS.WriteStream): Promise<void> {
  let n = 0;
  for (const s of steps) {
    n++;
    if (s.skip?.()) {
      stream.write(`[${n}/${steps.length}] ${s.title}: skipped\n`);
      continue;
    }
    const t0 = Date.now();
    try {
      const res = await s.run(() => {});
      stream.write(`[${n}/${steps.length}] ${s.title}: ${res} (${elapsed(t0)})\n`);
    } catch (e) {
      stream.write(`[${n}/${steps.length}] ${s.title}: failed (${elapsed(t0)})\n`);
      throw e;
    }
  }
}

async function runListr(steps: Step[], stream: NodeJS.WriteStream): Promise<void> {
  const list = new Listr(
    steps.map((s) => ({
        title: s.title,
        skip: () => (s.skip?.() ? `${s.title}: skipped` : false),
        task: async (_ctx: unknown, task: { output: string; title: string }) => {
          const res = await s.run((t) => (task.output = t));
          task.title = `${s.title}: ${res}`;
        },
      })),
    {
      exitOnError: true,
      registerSignalListeners: false,
      rendererOptions: {
        timer: PRESET_TIMER,
        collapseErrors: false,
        logger: new ListrLogger({ processOutput: new ProcessOutput(stream, stream) }),
      },
    },
  );
  await list.run();
}

function elapsed(t0: number): string {
  const ms = Date.now() - t0;
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}
