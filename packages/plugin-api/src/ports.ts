/**
 * `PORT_<NAME>`: the variable a runtime that runs workloads on the host (the process runtime) gives a
 * workload for its port `name`, upper-cased, anything but letters and digits as "_" (`web-api` gives
 * `PORT_WEB_API`). The server names it when a workload never listened there.
 */
export function portVariableName(name: string): string {
  return `PORT_${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}
