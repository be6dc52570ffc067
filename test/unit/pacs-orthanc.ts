/**
 * A real Orthanc (Debian's `orthanc` and `orthanc-dicomweb`) for the PACS tests: started on free
 * loopback HTTP and DICOM ports with a configuration written to a temporary folder, stopped and
 * removed after. Instances go in with dcmtk's `storescu` (not our code); what Orthanc holds is read
 * back over its own REST API.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const ORTHANC = '/usr/sbin/Orthanc';
export const DICOMWEB_PLUGIN = '/usr/share/orthanc/plugins/libOrthancDicomWeb.so';

export function orthancAvailable(): boolean {
  return (
    fs.existsSync(ORTHANC) && fs.existsSync(DICOMWEB_PLUGIN) && fs.existsSync('/usr/bin/storescu')
  );
}

/** A port nobody listens on now (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export interface Orthanc {
  httpPort: number;
  dicomPort: number;
  aet: string;
  /** The DICOMweb root, e.g. http://127.0.0.1:PORT/dicom-web */
  dicomweb: string;
  user: string;
  password: string;
  /** GET on Orthanc's REST API (as the configured user), JSON-decoded. */
  rest<T = unknown>(route: string): Promise<T>;
  restBytes(route: string): Promise<Buffer>;
  /** POST of a JSON body on Orthanc's REST API (e.g. /tools/find), JSON-decoded. */
  restPost<T = unknown>(route: string, body: unknown): Promise<T>;
  /** Stores files with dcmtk's storescu. */
  store(files: string[]): void;
  /** Kills Orthanc at once (SIGKILL), as a crash would: its peers see the connection drop. */
  kill(): void;
  stop(): Promise<void>;
}

export interface OrthancOptions {
  withPassword?: boolean;
  /** DICOM peers Orthanc knows (a C-MOVE destination): name -> [AE title, host, port]. */
  modalities?: Record<string, [string, string, number]>;
  /** Reject associations called with another AE title than Orthanc's. */
  checkCalledAet?: boolean;
}

export async function startOrthanc(options: OrthancOptions = {}): Promise<Orthanc> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qataseg-orthanc-'));
  const httpPort = await freePort();
  const dicomPort = await freePort();
  const aet = 'ORTHANCTEST';
  const user = 'reader';
  const password = 'pw-orthanc-test';
  const config = {
    Name: 'qataseg-test',
    StorageDirectory: path.join(dir, 'db'),
    IndexDirectory: path.join(dir, 'db'),
    HttpPort: httpPort,
    DicomPort: dicomPort,
    DicomAet: aet,
    RemoteAccessAllowed: false,
    AuthenticationEnabled: Boolean(options.withPassword),
    RegisteredUsers: options.withPassword ? { [user]: password } : {},
    DicomCheckCalledAet: Boolean(options.checkCalledAet),
    DicomAlwaysAllowStore: true,
    DicomAlwaysAllowEcho: true,
    DicomAlwaysAllowFind: true,
    DicomAlwaysAllowGet: true,
    DicomModalities: options.modalities ?? {},
    Plugins: [DICOMWEB_PLUGIN],
    DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false, StudiesMetadata: 'Full' },
    StableAge: 1,
    HttpTimeout: 30,
    ConcurrentJobs: 1,
  };
  const configFile = path.join(dir, 'orthanc.json');
  fs.writeFileSync(configFile, JSON.stringify(config));
  const child: ChildProcess = spawn(ORTHANC, [configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-8000);
  });
  const base = `http://127.0.0.1:${httpPort}`;
  const authHeader: Record<string, string> = options.withPassword
    ? { Authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}` }
    : {};
  const get = async (route: string): Promise<Response> => {
    const response = await fetch(`${base}${route}`, { headers: authHeader });
    if (!response.ok) throw new Error(`Orthanc ${route}: HTTP ${response.status}`);
    return response;
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`Orthanc exited (${child.exitCode}):\n${log}`);
    try {
      await get('/system');
      break;
    } catch {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`Orthanc did not start in 30 s:\n${log}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return {
    httpPort,
    dicomPort,
    aet,
    dicomweb: `${base}/dicom-web`,
    user,
    password,
    rest: async <T>(route: string) => (await (await get(route)).json()) as T,
    restBytes: async (route: string) => Buffer.from(await (await get(route)).arrayBuffer()),
    restPost: async <T>(route: string, body: unknown) => {
      const response = await fetch(`${base}${route}`, {
        method: 'POST',
        headers: { ...authHeader, 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      if (!response.ok) throw new Error(`Orthanc POST ${route}: HTTP ${response.status}`);
      return (await response.json()) as T;
    },
    store(files) {
      execFileSync('storescu', ['-R', '-aec', aet, '127.0.0.1', String(dicomPort), ...files], {
        stdio: 'pipe',
      });
    },
    kill: () => {
      child.kill('SIGKILL');
    },
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
