/** Customer CSVs a files list names before it summarises the rest of them. */
export const MAX_LISTED_CUSTOMER_FILES = 10;

/**
 * A report's files for people (the email's Files list, the report command's output): every report, table and
 * workbook file, and the first customer CSVs of each folder, then one line for the rest ("and 1,990 customer CSVs under
 * .../customers/"). A run writes a CSV per customer: listing thousands would make the email hundreds of kilobytes,
 * which mail clients clip, and bury the command's problems under them.
 */
export function fileLines(files: readonly string[]): string[] {
  const customerFolder = (f: string) => /^(.*[\\/]customers[\\/])[^\\/]+\.csv$/.exec(f)?.[1];
  const listed = files.filter((f) => customerFolder(f) === undefined);
  const folders = new Map<string, string[]>();
  for (const f of files) {
    const folder = customerFolder(f);
    if (folder === undefined) continue;
    if (!folders.has(folder)) folders.set(folder, []);
    folders.get(folder)!.push(f);
  }
  for (const [folder, csvs] of folders) {
    listed.push(...csvs.slice(0, MAX_LISTED_CUSTOMER_FILES));
    const rest = csvs.length - MAX_LISTED_CUSTOMER_FILES;
    if (rest > 0) listed.push(`and ${rest.toLocaleString('en-US')} more customer CSV${rest > 1 ? 's' : ''} under ${folder}`);
  }
  return listed;
}
