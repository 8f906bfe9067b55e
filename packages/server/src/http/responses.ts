import { z } from 'zod';

/**
 * The response schema of a route's 204 No Content, for its `schema.response`: the OpenAPI document lists the
 * status with `description` and no content (@fastify/swagger leaves out the content of a `null` schema), in
 * place of the 200 it lists for a route that declares no response. The route answers
 * `reply.code(204).send(null)`, the one value the schema allows: Fastify sends no body (and no content type)
 * with a 204.
 */
export function noContent(description: string) {
  return z.null().describe(description);
}

/**
 * The response of a route's 200 that is a stream of Server-Sent Events, for its `schema.response`: the
 * OpenAPI document lists it as `text/event-stream`. The route writes the stream itself (it hijacks the reply),
 * so nothing is serialized.
 */
export function eventStream(description: string) {
  return { description, content: { 'text/event-stream': { schema: z.string() } } };
}
