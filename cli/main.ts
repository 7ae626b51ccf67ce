import { type Command, parseCli, USAGE, UsageError } from './args.js';
import { formatBytes } from './part-planner.js';
import { progressOn } from './progress.js';
import { UploadStopped, uploadFile } from './uploader.js';

export interface CliIo {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/** `openbatch …`: runs the command and answers the exit status (0 ok, 1 failed, 2 usage, 130 interrupted). */
export async function main(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  io: CliIo = { stdout: process.stdout, stderr: process.stderr },
  signal?: AbortSignal,
): Promise<number> {
  let command: Command;
  try {
    command = parseCli(argv, env);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`openbatch: ${e.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (command.command === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const say = (m: string) => io.stderr.write(`openbatch: ${m}\n`);
  try {
    const result = await uploadFile({
      file: command.file,
      baseUrl: command.baseUrl,
      apiKey: command.apiKey,
      purpose: command.purpose,
      mimeType: command.mimeType,
      partSize: command.partSize,
      partSizeGiven: command.partSizeGiven,
      parallel: command.parallel,
      ...(command.stateDir ? { stateDir: command.stateDir } : {}),
      progress: progressOn(io.stderr),
      log: say,
      ...(signal ? { signal } : {}),
    });
    const { file } = result;
    say(
      `uploaded ${formatBytes(file.bytes)} as ${file.id} (upload ${result.uploadId}: ${result.partsSent.length} parts sent${result.partsSkipped.length ? `, ${result.partsSkipped.length} already there` : ''})`,
    );
    io.stdout.write(command.json ? `${JSON.stringify(file, null, 2)}\n` : `${file.id}\n`);
    return 0;
  } catch (e) {
    if (e instanceof UploadStopped) {
      say(e.message);
      if (!e.interrupted) say('run the same command again to resume from the parts already uploaded.');
      say(`state: ${e.statePath}`);
      return e.interrupted ? 130 : 1;
    }
    say(`upload failed: ${(e as Error).message}`);
    return 1;
  }
}
