import { describe, expect, it } from 'vitest';
import { DEFAULT_BASE_URL, parseCli, UsageError } from '../../../cli/args.js';
import { main } from '../../../cli/main.js';

const MiB = 1024 * 1024;

describe('parseCli', () => {
  it('applies the defaults, the key and URL from the environment', () => {
    expect(parseCli(['upload', 'f.jsonl'], { OPENAI_API_KEY: 'sk-1' })).toEqual({
      command: 'upload',
      file: 'f.jsonl',
      purpose: 'batch',
      mimeType: 'application/jsonl',
      partSize: 16 * MiB,
      partSizeGiven: false,
      parallel: 4,
      baseUrl: DEFAULT_BASE_URL,
      apiKey: 'sk-1',
      json: false,
      stateDir: undefined,
    });
    expect(
      parseCli(['upload', 'f.jsonl'], {
        OPENBATCH_API_KEY: 'sk-2',
        OPENAI_BASE_URL: 'https://batch.example.com/v1/',
        OPENBATCH_STATE_DIR: '/tmp/s',
      }),
    ).toMatchObject({ apiKey: 'sk-2', baseUrl: 'https://batch.example.com/v1', stateDir: '/tmp/s' });
  });

  it('takes the options over the environment', () => {
    const cmd = parseCli(
      [
        'upload',
        '--part-size',
        '8',
        'f.jsonl',
        '--parallel=2',
        '--base-url',
        'http://h:1/v1',
        '--api-key',
        'sk-o',
        '--json',
        '--purpose',
        'batch',
      ],
      { OPENAI_API_KEY: 'sk-env', OPENAI_BASE_URL: 'http://env/v1' },
    );
    expect(cmd).toMatchObject({
      partSize: 8 * MiB,
      partSizeGiven: true,
      parallel: 2,
      baseUrl: 'http://h:1/v1',
      apiKey: 'sk-o',
      json: true,
    });
  });

  it('refuses bad command lines', () => {
    const env = { OPENAI_API_KEY: 'k' };
    expect(() => parseCli(['upload', 'f', '--part-size', '4'], env)).toThrow(/at least 5 MiB/);
    expect(() => parseCli(['upload', 'f', '--part-size', '5.5'], env)).toThrow(UsageError);
    expect(() => parseCli(['upload', 'f', '--parallel', '0'], env)).toThrow(/--parallel/);
    expect(() => parseCli(['upload'], env)).toThrow(/one FILE/);
    expect(() => parseCli(['upload', 'a', 'b'], env)).toThrow(/one FILE/);
    expect(() => parseCli(['download', 'a'], env)).toThrow(/Unknown command/);
    expect(() => parseCli(['upload', 'a', '--nope'], env)).toThrow(UsageError);
    expect(() => parseCli(['upload', 'a'], {})).toThrow(/No API key/);
    expect(() => parseCli(['upload', 'a', '--base-url', 'ftp://x'], env)).toThrow(/http/);
  });

  it('answers help with no command or -h', () => {
    expect(parseCli([], {})).toEqual({ command: 'help' });
    expect(parseCli(['upload', '-h'], {})).toEqual({ command: 'help' });
  });
});

describe('main', () => {
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    const stream = (sink: string[]) =>
      ({ isTTY: false, write: (s: string) => sink.push(s) > 0 }) as unknown as NodeJS.WriteStream;
    return { out, err, io: { stdout: stream(out), stderr: stream(err) } };
  };

  it('exits 2 with the usage on a bad command line, 0 on help', async () => {
    const bad = io();
    expect(await main(['upload'], {}, bad.io)).toBe(2);
    expect(bad.err.join('')).toMatch(/Usage: openbatch upload FILE/);
    const help = io();
    expect(await main(['--help'], {}, help.io)).toBe(0);
    expect(help.out.join('')).toMatch(/--part-size MIB/);
  });

  it('exits 1 with the reason when the file cannot be read', async () => {
    const r = io();
    expect(await main(['upload', '/nonexistent/f.jsonl'], { OPENAI_API_KEY: 'k' }, r.io)).toBe(1);
    expect(r.err.join('')).toMatch(/upload failed: .*ENOENT/);
    expect(r.out).toEqual([]);
  });
});
