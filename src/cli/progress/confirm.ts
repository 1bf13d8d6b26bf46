import { createInterface } from 'node:readline';

/**
 * A y/N question at a terminal. Anything but y/yes is "no". The keys a person
 * uses to get out must work too: readline puts the terminal in raw mode, so
 * Ctrl-C reaches it as a keypress (not a signal) and Ctrl-D as end of input.
 * Left alone, readline pauses on Ctrl-C (the command hangs) and the promise
 * API rejects on Ctrl-D (a stack trace); here they answer `interrupted` and
 * `no`.
 */
export type Answer = 'yes' | 'no' | 'interrupted';

export function askYesNo(question: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream): Promise<Answer> {
  const rl = createInterface({ input, output });
  return new Promise<Answer>((resolve) => {
    let settled = false;
    const done = (answer: Answer): void => {
      if (settled) return;
      settled = true;
      rl.close();
      resolve(answer);
    };
    rl.on('SIGINT', () => {
      output.write('\n');
      done('interrupted');
    });
    // Ctrl-D, or the input ended.
    rl.on('close', () => {
      if (!settled) output.write('\n');
      done('no');
    });
    rl.question(question, (answer) => done(/^y(es)?$/i.test(answer.trim()) ? 'yes' : 'no'));
  });
}
