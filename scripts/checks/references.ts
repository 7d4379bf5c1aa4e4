// `npm run check` (references:check): comments and documents must stand on their own or point into
// this repository. Fails, naming file and line, when a tracked text file cites a design document,
// style guide or stack notes kept outside the repository, a numbered section of one, or an issue
// number: a reader of this repository has none of them.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** What counts as a citation of something outside the repository. */
export const OUTSIDE_REFERENCE = /\b(?:DESIGN|STYLE|STACK)\.md\b|§\s*\d|\bissues?\s+#\d+|\.\.\/shared\//i;

/**
 * Generated or vendored paths, not written by hand; and applied migrations, which never change (the
 * migrator refuses a migration whose checksum differs from the one it applied).
 */
const SKIP = /(^|\/)(node_modules|generated|gql)\/|^prisma\/migrations\//;

export interface Citation {
  file: string;
  line: number;
  text: string;
}

/** Every line of `text` that cites something outside the repository. */
export function findOutsideReferences(file: string, text: string): Citation[] {
  const found: Citation[] = [];
  text.split('\n').forEach((line, i) => {
    if (OUTSIDE_REFERENCE.test(line)) found.push({ file, line: i + 1, text: line.trim() });
  });
  return found;
}

function trackedFiles(): string[] {
  const out = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '-z'], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return out.split('\0').filter((f) => f && !SKIP.test(f));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const found: Citation[] = [];
  for (const file of trackedFiles()) {
    let buf: Buffer;
    try {
      buf = readFileSync(file);
    } catch {
      continue; // listed but deleted in the work tree
    }
    if (buf.includes(0)) continue; // binary
    found.push(...findOutsideReferences(file, buf.toString('utf8')));
  }
  for (const c of found) console.error(`${c.file}:${c.line}: ${c.text}`);
  if (found.length) {
    console.error(
      `\n${found.length} line(s) cite files or issues outside this repository: say what is meant, or point to a file here`,
    );
    process.exit(1);
  }
  console.log('no references to documents outside the repository');
}
