import cliProgress from 'cli-progress';
import { formatBytes } from './part-planner.js';

/** Where the uploader reports what it sends. */
export interface Progress {
  /** `done` bytes are already in S3 (a resume) out of `total`. */
  start(total: number, done: number, parts: { total: number; done: number }): void;
  /** Bytes handed to the network; negative when a failed attempt's bytes are taken back. */
  add(bytes: number): void;
  partDone(partNumber: number): void;
  stop(): void;
}

export const silentProgress: Progress = { start() {}, add() {}, partDone() {}, stop() {} };

/** A bar on a terminal; plain lines, one per part, anywhere else (logs, CI, pipes). */
export function progressOn(stream: NodeJS.WriteStream): Progress {
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream);
}

class BarProgress implements Progress {
  private readonly bar: cliProgress.SingleBar;
  private total = 0;
  private value = 0;
  private startValue = 0;
  private started = 0;
  private parts = { total: 0, done: 0 };

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar(
      {
        stream,
        format:
          '{bar} {percentage}% | {sent} / {size} | {speed} | parts {partsDone}/{partsTotal} | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  private payload() {
    const secs = (Date.now() - this.started) / 1000;
    const rate = secs > 0 ? (this.value - this.startValue) / secs : 0;
    return {
      sent: formatBytes(this.value),
      size: formatBytes(this.total),
      speed: `${formatBytes(Math.round(rate))}/s`,
      partsDone: this.parts.done,
      partsTotal: this.parts.total,
    };
  }

  start(total: number, done: number, parts: { total: number; done: number }) {
    this.total = total;
    this.value = done;
    this.startValue = done;
    this.started = Date.now();
    this.parts = { ...parts };
    this.bar.start(total, done, this.payload());
  }
  add(bytes: number) {
    this.value += bytes;
    this.bar.update(this.value, this.payload());
  }
  partDone() {
    this.parts.done += 1;
    this.bar.update(this.value, this.payload());
  }
  stop() {
    this.bar.stop();
  }
}

class LineProgress implements Progress {
  private total = 0;
  private sent = 0;
  private parts = { total: 0, done: 0 };

  constructor(private readonly stream: NodeJS.WriteStream) {}

  start(total: number, done: number, parts: { total: number; done: number }) {
    this.total = total;
    this.sent = done;
    this.parts = { ...parts };
  }
  add(bytes: number) {
    this.sent += bytes;
  }
  partDone(partNumber: number) {
    this.parts.done += 1;
    const pct = this.total ? Math.floor((this.sent / this.total) * 100) : 100;
    this.stream.write(
      `part ${partNumber} uploaded: ${this.parts.done}/${this.parts.total} parts, ${formatBytes(this.sent)} of ${formatBytes(this.total)} (${pct}%)\n`,
    );
  }
  stop() {}
}
