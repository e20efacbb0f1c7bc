import { fileURLToPath } from 'node:url';
import { commandExists, run } from './process.js';
import { StackError } from './errors.js';

/** The stack's Maven projects (stack/maven/<name>/pom.xml), resolved against Maven Central. */
export function mavenPom(name: 'kafka' | 'registry'): string {
  return fileURLToPath(new URL(`./maven/${name}/pom.xml`, import.meta.url));
}

export async function runMaven(service: string, logFile: string, pom: string, goals: string[], properties: Record<string, string>): Promise<void> {
  if (!commandExists('mvn')) {
    throw new StackError(service, 'Apache Maven (mvn) is needed to resolve it from Maven Central; install it (apt-get install maven)', logFile);
  }
  const args = ['-B', '-q', '-f', pom, ...goals, ...Object.entries(properties).map(([k, v]) => `-D${k}=${v}`)];
  try {
    await run('mvn', args);
  } catch (error) {
    throw new StackError(service, `could not resolve it from Maven Central: ${(error as Error).message}`, logFile, error);
  }
}
