// The interactive touches of gatehouse login: a spinner line, a key to open the browser, and the
// browser itself. All of it only on a terminal; piped or in CI the commands just print lines.
import { spawn } from 'node:child_process';
import { platform } from 'node:os';

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 100;
const CLEAR_LINE = '\r\x1b[2K';
const CTRL_C = '\u0003';

export function isInteractive(): boolean {
  return !!process.stdout.isTTY && !!process.stdin.isTTY;
}

export interface Spinner { stop(finalLine?: string): void }

/** Redraws `text()` after a spinning frame on the current line until stopped. */
export function startSpinner(text: () => string): Spinner {
  let i = 0;
  const draw = () => process.stdout.write(`${CLEAR_LINE}${FRAMES[i++ % FRAMES.length]} ${text()}`);
  draw();
  const timer = setInterval(draw, FRAME_MS);
  return {
    stop(finalLine) {
      clearInterval(timer);
      process.stdout.write(CLEAR_LINE + (finalLine ? `${finalLine}\n` : ''));
    },
  };
}

/** Listens for single keys (raw mode) until the returned function is called. */
export function onKeys(handlers: { enter?: () => void; interrupt: () => void }): () => void {
  const stdin = process.stdin;
  const listener = (data: Buffer) => {
    const key = data.toString('utf8');
    if (key === CTRL_C) handlers.interrupt();
    else if ((key === '\r' || key === '\n') && handlers.enter) handlers.enter();
  };
  stdin.setRawMode(true);
  stdin.resume();
  stdin.on('data', listener);
  return () => {
    stdin.off('data', listener);
    stdin.setRawMode(false);
    stdin.pause();
  };
}

/** Opens url in the default browser; never throws. `failed` is called if no browser could be started. */
export function openBrowser(url: string, failed: () => void = () => {}): void {
  const os = platform();
  const [command, args] = os === 'darwin' ? ['open', [url]] : os === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', failed); // no opener installed
    child.on('exit', (code) => { if (code) failed(); }); // an opener, but no browser to open
    child.unref();
  } catch {
    failed();
  }
}

export function minutesAndSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}
