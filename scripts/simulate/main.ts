// `npm run simulate`: moves 10 vehicles of the demo member (driver@demo.local, the demo tenant
// of `npm start`) through the public API for 60 s, so the dashboard shows them.
// `npm run simulate -- --tenants 3 --devices 50 --rate 5 [--duration 60] [--url …]` instead
// creates its own tenants as the platform admin (default: the demo admin, or BOOTSTRAP_ADMIN_*
// when set) and moves their devices (see fleet.ts). Ctrl-C stops it cleanly.
import { parseArgs } from 'node:util';
import { driveFleet, setUpFleet, setUpMemberFleet, stopFleet } from './fleet';

const env = process.env;
const { values } = parseArgs({
  options: {
    url: { type: 'string', default: env['ROUTER_URL'] ?? 'http://127.0.0.1:4000/graphql' },
    email: { type: 'string', default: env['SIM_EMAIL'] ?? 'driver@demo.local' },
    password: { type: 'string', default: env['SIM_PASSWORD'] ?? 'DemoDriver-2026' },
    'admin-email': {
      type: 'string',
      default: env['SIM_ADMIN_EMAIL'] ?? env['BOOTSTRAP_ADMIN_EMAIL'] ?? 'admin@demo.local',
    },
    'admin-password': {
      type: 'string',
      default: env['SIM_ADMIN_PASSWORD'] ?? env['BOOTSTRAP_ADMIN_PASSWORD'] ?? 'DemoAdmin-2026',
    },
    tenants: { type: 'string' },
    devices: { type: 'string', default: '10' },
    rate: { type: 'string', default: '1' },
    duration: { type: 'string', default: '60' },
  },
});
const num = (name: string, v: string | undefined, min: number, max: number): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`--${name} must be a number in [${min}, ${max}]`);
    process.exit(2);
  }
  return n;
};
const options = {
  url: values.url!,
  adminEmail: values['admin-email']!,
  adminPassword: values['admin-password']!,
  tenants: values.tenants === undefined ? 0 : num('tenants', values.tenants, 1, 50),
  devicesPerTenant: num('devices', values.devices, 1, 500),
  rate: num('rate', values.rate, 0.1, 50),
  durationSec: num('duration', values.duration, 0, 86_400),
};
const controller = new AbortController();
// Ctrl-C reaches this process twice (from the terminal and relayed by npm): stop once, finish the run.
process.on('SIGINT', () => controller.abort());
process.on('SIGTERM', () => controller.abort());
const log = (msg: string, fields: Record<string, unknown> = {}): void =>
  console.log(JSON.stringify({ msg, ...fields }));
const devices =
  options.tenants > 0
    ? await setUpFleet({ ...options, signal: controller.signal, log })
    : await setUpMemberFleet({
        url: options.url,
        email: values.email!,
        password: values.password!,
        devices: options.devicesPerTenant,
        log,
      });
log('driving', { devices: devices.length, rate: options.rate, durationSec: options.durationSec });
const stats = await driveFleet({ ...options, signal: controller.signal, log }, devices);
await stopFleet(options.url, devices);
const sorted = [...stats.latencies].sort((a, b) => a - b);
const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
log('done', {
  recorded: stats.recorded,
  errors: stats.errors,
  pointsPerSec: +(stats.recorded / stats.elapsedSec).toFixed(1),
  p50ms: pct(50),
  p99ms: pct(99),
});
