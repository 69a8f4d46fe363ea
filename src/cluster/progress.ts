// Progress on stderr: listr2 (spinner + elapsed time per step) on a TTY, one plain line per step otherwise.
import { Listr, ListrLogger, PRESET_TIMER, ProcessOutput } from 'listr2';

export interface Step {
  title: string;
  /** Returns a short result shown after the title. */
  run: (setOutput: (text: string) => void) => Promise<string>;
  /** Evaluated when the step's turn comes: true → not run (an earlier step stopped the run). */
  skip?: () => boolean;
  /** Printed when the step starts (long waits say what they wait for and why). */
  announce?: string;
}

export interface RunStepsOptions {
  /** Force plain lines even on a TTY (also via SERVERLESS_MESH_PLAIN=1). */
  plain?: boolean;
  stream?: NodeJS.WriteStream;
  /** Plain mode: least time between two progress lines of one step (default 10 s). */
  progressEveryMs?: number;
}

/** Runs steps in order. A thrown error ends the run and is rethrown after the progress output is flushed. */
export async function runSteps(steps: Step[], opts: RunStepsOptions = {}): Promise<void> {
  const stream = opts.stream ?? process.stderr;
  const tty = !!stream.isTTY && !opts.plain && !process.env.SERVERLESS_MESH_PLAIN && process.env.TERM !== 'dumb';
  return tty ? runListr(steps, stream) : runPlain(steps, stream, opts.progressEveryMs ?? 10_000);
}

/** Not a terminal (CI, a pipe, a log file): one line per step, plus a progress line now and then during long steps. */
async function runPlain(steps: Step[], stream: NodeJS.WriteStream, everyMs: number): Promise<void> {
  let n = 0;
  for (const s of steps) {
    n++;
    if (s.skip?.()) {
      stream.write(`[${n}/${steps.length}] ${s.title}: skipped\n`);
      continue;
    }
    const t0 = Date.now();
    if (s.announce) stream.write(`[${n}/${steps.length}] ${s.title}: ${s.announce}\n`);
    let lastLine = Date.now();
    let lastText = '';
    const progress = (text: string) => {
      if (text === lastText && Date.now() - lastLine < everyMs * 3) return;
      if (Date.now() - lastLine < everyMs) return;
      lastLine = Date.now();
      lastText = text;
      stream.write(`[${n}/${steps.length}] ${s.title}: ${text} (${elapsed(t0)})\n`);
    };
    try {
      const res = await s.run(progress);
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
      title: s.announce ? `${s.title} (${s.announce})` : s.title,
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
