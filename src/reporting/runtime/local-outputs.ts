import { mkdir, readFile, writeFile } from 'fs/promises';
import { dirname, join, resolve } from 'path';
import { RenderedEmail } from './render';
import { ReportOutputs } from './report-run';

/**
 * A dry run's outputs: every object as a file under `directory` (same keys as in S3), the email as `email.html` and
 * `email.txt` next to them, nothing sent. The yearly workbook and the cost records are read back from the directory,
 * never the bucket, so repeated dry runs roll up like the real bucket but only over the months rendered there.
 */
export function directoryOutputs(directory: string): ReportOutputs & { readonly emailFiles: string[] } {
  const root = resolve(directory);
  const inside = (key: string) => {
    const path = resolve(root, key);
    if (!path.startsWith(`${root}/`) && path !== root) throw new Error(`object key ${key} leaves the output directory`);
    return path;
  };
  const emailFiles: string[] = [];
  return {
    emailFiles,
    // The dry run never reads the bucket: recorded cost figures and the yearly workbook are those rendered here.
    recordsIn: `the output directory ${root} (a dry run does not read the bucket)`,
    putObject: async (key, body) => {
      const path = inside(key);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, body);
      return path;
    },
    getObject: async (key) => {
      try {
        return await readFile(inside(key));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw e;
      }
    },
    sendEmail: async (email: RenderedEmail, from, to) => {
      await mkdir(root, { recursive: true });
      const html = join(root, 'email.html');
      const text = join(root, 'email.txt');
      await writeFile(html, email.html);
      await writeFile(text, `From: ${from}\nTo: ${to.join(', ')}\nSubject: ${email.subject}\n\n${email.text}\n`);
      emailFiles.push(html, text);
      return undefined;
    },
  };
}
