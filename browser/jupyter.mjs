// A real Jupyter Notebook server on loopback and Debian's Chromium driven by playwright-core, for the
// browser tests (notebooks.test.mjs). Nothing here downloads a browser.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

export const chromiumPath = '/usr/bin/chromium';

// The flags these machines need: no sandbox as root, no GPU, and no background connections, which the
// closed network refuses.
export const chromiumArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// startJupyter starts the classic Notebook server on dir and resolves when it answers.
export async function startJupyter(dir) {
  const port = await freePort();
  const token = randomBytes(16).toString('hex');
  const log = [];
  const proc = spawn('/usr/bin/jupyter', ['notebook', '--no-browser', '--ip=127.0.0.1', `--port=${port}`,
    '--port-retries=0', `--notebook-dir=${dir}`, '--allow-root', `--NotebookApp.token=${token}`,
    '--NotebookApp.password=', '--NotebookApp.open_browser=False'], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout.on('data', (d) => log.push(String(d)));
  proc.stderr.on('data', (d) => log.push(String(d)));
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) {
      throw new Error(`jupyter notebook exited with ${proc.exitCode}:\n${log.join('')}`);
    }
    try {
      const res = await fetch(`${base}/api/status?token=${token}`);
      if (res.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) {
      proc.kill();
      throw new Error(`jupyter notebook did not answer within 60 s:\n${log.join('')}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    base, token, log,
    url: (path) => `${base}/${path}?token=${token}`,
    async api(method, path) {
      const res = await fetch(`${base}/api/${path}?token=${token}`, { method });
      return res.ok ? (res.status === 204 ? null : res.json()) : null;
    },
    async stop() {
      // Shut every kernel down, then the server.
      const sessions = (await this.api('GET', 'sessions')) || [];
      for (const s of sessions) await this.api('DELETE', `sessions/${s.id}`);
      proc.kill('SIGTERM');
      await new Promise((r) => { if (proc.exitCode !== null) r(); else proc.on('exit', r); });
    },
  };
}

// launchBrowser starts Debian's Chromium with a fresh profile; width is the window's (and so the page's).
export async function launchBrowser(width = 1400, height = 1000) {
  const profile = mkdtempSync(join(tmpdir(), 'einspace-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath, headless: true, args: chromiumArgs, viewport: { width, height },
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
