import { memo, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { ApiError, type LogEvent, type Problem } from '@pave/core';
import { storedToken, type Session } from '../session.ts';
import { Command, ErrorMessage } from './common.tsx';

/** How many lines the view keeps; older ones are dropped. */
const MAX_LINES = 1000;

/** How a log stream ended. */
export type LogStreamEnd = 'ended' | 'no-logs';

/**
 * Follows an environment's logs (Server-Sent Events from GET …/logs) with fetch and a stream reader, calling
 * `onLine` for each line. PaveClient.logs iterates the body with `for await`, which not every browser
 * supports on a ReadableStream, so the portal reads the stream itself. Resolves when the server ends the
 * stream ('no-logs' when the runtime keeps none) or `signal` aborts; rejects with ApiError when refused.
 */
export async function followLogs(
  server: string,
  token: string | undefined,
  query: { app: string; env: string; workload?: string; tail?: number },
  onLine: (line: LogEvent) => void,
  signal: AbortSignal,
): Promise<LogStreamEnd> {
  const url = new URL(
    `${server}/api/v1/apps/${encodeURIComponent(query.app)}/envs/${encodeURIComponent(query.env)}/logs`,
  );
  if (query.workload) url.searchParams.set('workload', query.workload);
  url.searchParams.set('tail', String(query.tail ?? 100));
  url.searchParams.set('follow', 'true');
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { headers, signal });
  if (response.status === 204) return 'no-logs';
  if (!response.ok || !response.body) {
    const text = await response.text();
    let problem: Problem | undefined;
    try {
      problem = JSON.parse(text) as Problem;
    } catch {
      problem = undefined;
    }
    throw new ApiError(
      response.status,
      problem && typeof problem.title === 'string' && Array.isArray(problem.errors)
        ? problem
        : {
            type: 'about:blank',
            title: response.statusText || 'Error',
            status: response.status,
            detail: text || `the server answered ${response.status}`,
            requestId: response.headers.get('x-request-id') ?? '',
            errors: [],
          },
    );
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return 'ended';
      buffer += decoder.decode(value, { stream: true });
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const event = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const name = /^event: (.*)$/m.exec(event)?.[1];
        const data = event
          .split('\n')
          .filter((line) => line.startsWith('data:'))
          .map((line) => line.slice(5).trimStart())
          .join('\n');
        if (name === 'log' && data) onLine(JSON.parse(data) as LogEvent);
        else if (name === 'end') return 'ended';
        else if (name === 'error') {
          throw new Error(`the log stream failed: ${(JSON.parse(data) as { message?: string }).message}`);
        }
      }
    }
  } catch (error) {
    if (signal.aborted) return 'ended';
    throw error;
  } finally {
    reader.releaseLock();
  }
}

interface ShownLine extends LogEvent {
  seq: number;
}

/**
 * Live logs of an environment: follows the stream while mounted, filtered to one workload if chosen. Pause
 * freezes the view (new lines are held and counted, not lost); Resume shows them. Scrolls with new lines
 * unless the reader has scrolled up. Memoized: the page around it re-renders on every status poll, and
 * re-rendering a thousand lines for nothing is not free.
 */
export const LogsView = memo(function LogsView({
  session,
  app,
  env,
  workloads,
}: {
  session: Session;
  app: string;
  env: string;
  /** The environment's workloads, for the filter. */
  workloads: readonly string[];
}) {
  const [workload, setWorkload] = useState('');
  const [lines, setLines] = useState<ShownLine[]>([]);
  const [held, setHeld] = useState<ShownLine[]>([]);
  const [paused, setPaused] = useState(false);
  const [state, setState] = useState<'connecting' | 'live' | LogStreamEnd>('connecting');
  const [error, setError] = useState<unknown>(null);
  const [attempt, setAttempt] = useState(0);
  // The stream's callback reads this, so pausing does not restart the stream.
  const pausedRef = useRef(false);
  const box = useRef<HTMLDivElement>(null);
  const stick = useRef(true);

  useEffect(() => {
    const abort = new AbortController();
    let seq = 0;
    setLines([]);
    setHeld([]);
    setError(null);
    setState('connecting');
    const onLine = (line: LogEvent) => {
      const shown = { ...line, seq: seq++ };
      const add = (list: ShownLine[]) => [...list.slice(-(MAX_LINES - 1)), shown];
      setState('live');
      if (pausedRef.current) setHeld(add);
      else setLines(add);
    };
    followLogs(
      session.client.server,
      storedToken(),
      { app, env, ...(workload ? { workload } : {}) },
      onLine,
      abort.signal,
    )
      .then((end) => !abort.signal.aborted && setState(end))
      .catch((e: unknown) => {
        if (abort.signal.aborted) return;
        setError(e);
        setState('ended');
      });
    return () => abort.abort();
  }, [session, app, env, workload, attempt]);

  useLayoutEffect(() => {
    const element = box.current;
    if (element && stick.current) element.scrollTop = element.scrollHeight;
  }, [lines]);

  const pause = () => {
    pausedRef.current = true;
    setPaused(true);
  };
  const resume = () => {
    pausedRef.current = false;
    setLines((shown) => [...shown, ...held].slice(-MAX_LINES));
    setHeld([]);
    setPaused(false);
  };
  const stateText =
    state === 'connecting'
      ? 'Connecting…'
      : state === 'live'
        ? paused
          ? `Paused: ${held.length} new line${held.length === 1 ? '' : 's'} held`
          : 'Following'
        : state === 'no-logs'
          ? 'This runtime keeps no logs.'
          : 'The stream ended.';
  return (
    <div className="logs">
      <div className="logs-controls">
        <label>
          Workload
          <select value={workload} onChange={(e) => setWorkload(e.target.value)}>
            <option value="">All workloads</option>
            {workloads.map((name) => (
              <option key={name} value={name}>
                {name}
              </option>
            ))}
          </select>
        </label>
        {paused ? (
          <button type="button" className="primary" onClick={resume}>
            Resume
          </button>
        ) : (
          <button type="button" onClick={pause}>
            Pause
          </button>
        )}
        <button type="button" onClick={() => setLines([])}>
          Clear
        </button>
        {(state === 'ended' || state === 'no-logs') && (
          <button type="button" onClick={() => setAttempt((n) => n + 1)}>
            Reconnect
          </button>
        )}
        <span role="status" className="logs-state">
          {stateText}
        </span>
      </div>
      <ErrorMessage error={error} />
      <div
        ref={box}
        className="log-lines"
        role="log"
        aria-live="off"
        aria-label={`Log lines${workload ? ` of ${workload}` : ''}`}
        tabIndex={0}
        onScroll={(e) => {
          const el = e.currentTarget;
          stick.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
        }}
      >
        {lines.length === 0 ? (
          <p className="muted">{state === 'connecting' ? 'Waiting for the stream…' : 'No lines yet.'}</p>
        ) : (
          <ol>
            {lines.map((line) => (
              <li key={line.seq} className={line.stream === 'stderr' ? 'log-stderr' : undefined}>
                <time dateTime={line.at}>{new Date(line.at).toLocaleTimeString()}</time>{' '}
                <span className="log-source">
                  {line.workload}
                  {line.container === 'main' ? '' : `/${line.container}`}
                </span>{' '}
                <span className="log-text">{line.line}</span>
              </li>
            ))}
          </ol>
        )}
      </div>
      <Command>{`pave logs${workload ? ` ${workload}` : ''} --app ${app} --env ${env} -f`}</Command>
    </div>
  );
});
