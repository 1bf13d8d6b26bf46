import { execFileSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import ffmpeg from '@ffmpeg-installer/ffmpeg';

/** An installer's binary, made executable if the package lost the bit (it ships in node_modules). */
export function tool(p: string): string {
  try {
    chmodSync(p, 0o755);
  } catch {
    // read-only install: it is executable already or the call says so
  }
  return p;
}

/** Runs ffmpeg quietly with these arguments (overwriting the output). */
export function ffmpegRun(args: readonly string[]): void {
  execFileSync(tool(ffmpeg.path), ['-v', 'error', '-y', ...args], { stdio: 'ignore' });
}

/** A 4 s 1280x720 MP4 of one of ffmpeg's test patterns (`testsrc`, `testsrc2`…): a valid character or source video. */
export function testPatternMp4(file: string, pattern = 'testsrc'): void {
  ffmpegRun(['-f', 'lavfi', '-i', `${pattern}=size=1280x720:rate=4:duration=4`, '-pix_fmt', 'yuv420p', file]);
}
