// Implementation in progress.
export async function handler(): Promise<void> {
  return;
}
