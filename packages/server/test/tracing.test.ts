import { describe, expect, it } from 'vitest';
import { inSpan, startTracing } from '../src/observability/tracing.ts';

describe('tracing without an OTLP endpoint', () => {
  it('starts nothing and records nothing: spans are no-ops', async () => {
    const logged: string[] = [];
    const logger = { info: (_fields: object, message: string) => logged.push(message) };
    expect(await startTracing({}, logger as never)).toBeNull();
    expect(
      await startTracing(
        { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:1', OTEL_SDK_DISABLED: 'true' },
        logger as never,
      ),
    ).toBeNull();
    expect(logged).toEqual([]);
    const recording = await inSpan('deployment', { 'pave.app': 'shop' }, async (span) => span.isRecording());
    expect(recording).toBe(false);
  });

  it('passes a rejection on unchanged', async () => {
    const error = new Error('driver failed');
    await expect(inSpan('phase start', {}, async () => Promise.reject(error))).rejects.toBe(error);
  });
});
