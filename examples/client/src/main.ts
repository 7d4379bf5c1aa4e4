// `npm run example` against a running router (default :4000), as the demo member of `npm start`
// unless `-- --email a@b.c --password '…'` (or EXAMPLE_EMAIL / EXAMPLE_PASSWORD) say otherwise.
import { parseArgs } from 'node:util';
import { runExample } from './runExample';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: process.env['ROUTER_URL'] ?? 'http://127.0.0.1:4000/graphql' },
    email: { type: 'string', default: process.env['EXAMPLE_EMAIL'] ?? 'driver@demo.local' },
    password: { type: 'string', default: process.env['EXAMPLE_PASSWORD'] ?? 'DemoDriver-2026' },
  },
});
if (!values.email || !values.password) {
  console.error(
    'usage: npm run example -- --email <email> --password <password> [--url http://127.0.0.1:4000/graphql]',
  );
  process.exit(2);
}
const result = await runExample({
  url: values.url!,
  email: values.email,
  password: values.password,
  log: (m) => console.log(m),
});
console.log(JSON.stringify(result, null, 2));
