/**
 * The one line `npm start` prints when it cannot listen for a reason the person starting it can
 * fix (the port is taken, a privileged port, an address this machine does not have), naming the
 * variable to change. Other errors are bugs and keep their stack.
 */

/**
 * @example listenFailureMessage(Object.assign(new Error(), { code: 'EADDRINUSE' }), { port: 8080, host: '0.0.0.0' })
 * // 'Port 8080 is already in use (another service, or FER started twice): stop it or choose another port with PORT, e.g. PORT=8081 npm start'
 * @returns null when the error is not one of those.
 */
export function listenFailureMessage(error: unknown, where: { port: number; host: string }): string | null {
  switch ((error as NodeJS.ErrnoException | null)?.code) {
    case 'EADDRINUSE':
      return (
        `Port ${where.port} is already in use (another service, or FER started twice): ` +
        `stop it or choose another port with PORT, e.g. PORT=${where.port + 1} npm start`
      );
    case 'EACCES':
      return `Not allowed to listen on port ${where.port} (ports below 1024 need privileges): choose another with PORT, e.g. PORT=8080 npm start`;
    case 'EADDRNOTAVAIL':
      return `This machine has no address ${where.host} to listen on: set HOST to one of its addresses, or HOST=0.0.0.0 for all`;
    default:
      return null;
  }
}
