/**
 * The session's keyboard: `q` quits, `r` retries failed targets, Ctrl-C
 * quits too (in raw mode it arrives as a byte, not as SIGINT). In a TTY the
 * keys act at once (raw mode); otherwise stdin is read as lines (`q`, `r`),
 * which is how scripts and tests drive a watch through a pipe.
 */
export type KeyCommand = 'quit' | 'interrupt' | 'retry';

export interface KeyInput {
  close(): void;
}

export function listenForKeys(stdin: NodeJS.ReadStream, onCommand: (c: KeyCommand) => void): KeyInput {
  const raw = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  if (raw) stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  let buffered = '';
  const onData = (chunk: string) => {
    if (raw) {
      for (const ch of chunk) {
        const c = keyCommand(ch);
        if (c !== undefined) onCommand(c);
      }
      return;
    }
    buffered += chunk;
    let i: number;
    while ((i = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, i).trim();
      buffered = buffered.slice(i + 1);
      const c = keyCommand(line);
      if (c !== undefined) onCommand(c);
    }
  };
  stdin.on('data', onData);
  stdin.resume();
  return {
    close() {
      stdin.off('data', onData);
      if (raw) stdin.setRawMode(false);
      stdin.pause();
    },
  };
}

function keyCommand(key: string): KeyCommand | undefined {
  switch (key) {
    case 'q':
    case 'Q':
      return 'quit';
    case '\u0003':
      return 'interrupt';
    case 'r':
    case 'R':
      return 'retry';
    default:
      return undefined;
  }
}
