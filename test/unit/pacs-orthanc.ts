/**
 * A real Orthanc (Debian's `orthanc` and `orthanc-dicomweb`) for the PACS tests: started on free
 * loopback HTTP and DICOM ports with a configuration written to a temporary folder, stopped and
 * removed after. Instances go in with dcmtk's `storescu` (not our code); what Orthanc holds is read
 * back over its own REST API.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
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

/** What a test may add to the server: a Lua script (e.g. a ReceivedInstanceFilter), TLS. */
export interface OrthancExtras {
  /** Lua source, written beside the configuration and listed in `LuaScripts`. */
  lua?: string;
  /**
   * HTTPS in front of Orthanc: `certificate` is a PEM of the server's key and certificate. Debian's
   * Orthanc 1.10.1 dies (SIGSEGV) on its first request with `SslEnabled`, so the TLS end is Node's
   * (a pass-through to Orthanc's HTTP port) and `dicomweb` names it.
   */
  tls?: { certificate: string };
}

export async function startOrthanc(options: OrthancOptions & OrthancExtras = {}): Promise<Orthanc> {
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
    ...(options.lua ? { LuaScripts: [path.join(dir, 'script.lua')] } : {}),
  };
  if (options.lua) fs.writeFileSync(path.join(dir, 'script.lua'), options.lua);
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
  let front: https.Server | null = null;
  let dicomweb = `${base}/dicom-web`;
  if (options.tls) {
    const pem = fs.readFileSync(options.tls.certificate);
    const server = https.createServer({ key: pem, cert: pem }, (request, response) => {
      const upstream = http.request(
        { host: '127.0.0.1', port: httpPort, path: request.url, method: request.method },
        (answer) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(response);
        },
      );
      for (const [name, value] of Object.entries(request.headers))
        if (value !== undefined) upstream.setHeader(name, value);
      upstream.on('error', () => response.destroy());
      request.pipe(upstream);
    });
    const tlsPort = await new Promise<number>((resolve) =>
      server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
    );
    front = server;
    dicomweb = `https://127.0.0.1:${tlsPort}/dicom-web`;
  }
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
    dicomweb,
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
      front?.close();
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
