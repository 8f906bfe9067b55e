import { useId, useRef, useState, type ReactNode } from 'react';
import type { ResourceGraph } from '@pave/core';

type GraphNode = ResourceGraph['nodes'][number];

/** One box of the drawing: a workload (column 0) or a resource (column = its dependency depth). */
export interface GraphBox {
  key: string;
  kind: 'workload' | 'resource';
  column: number;
  x: number;
  y: number;
  title: string;
  subtitle: string;
  /** A built-in or not yet provisioned resource is drawn dashed. */
  dashed: boolean;
}

/** One line of the drawing, from the right side of one box to the left side of another. */
export interface GraphLine {
  key: string;
  kind: 'uses' | 'depends-on';
  path: string;
}

/** Where everything goes, in SVG user units. */
export interface GraphLayout {
  width: number;
  height: number;
  boxes: GraphBox[];
  lines: GraphLine[];
}

const BOX_WIDTH = 200;
const BOX_HEIGHT = 48;
const COLUMN_GAP = 72;
const ROW_GAP = 16;
const PAD = 16;
const MAX_LABEL = 26;

/**
 * Lays the graph out left to right: workloads in column 0, each resource in the column of its dependency
 * depth (1 for a resource only workloads use, one more than any resource that depends on it), ordered in
 * its column by where the boxes pointing at it sit, so lines cross less. `workloads` adds workloads that
 * use no resource. A cycle (the server refuses them) cannot loop: depth stops growing after n rounds.
 */
function layoutResourceGraph(graph: ResourceGraph, workloads: readonly string[] = []): GraphLayout {
  const workloadNames = [
    ...new Set([...workloads, ...graph.edges.filter((e) => e.kind === 'uses').map((e) => e.from)]),
  ].sort();
  const depth = new Map<string, number>(graph.nodes.map((node) => [node.address, 1]));
  const dependsOn = graph.edges.filter((e) => e.kind === 'depends-on');
  for (let round = 0; round < graph.nodes.length; round++) {
    let changed = false;
    for (const edge of dependsOn) {
      const wanted = (depth.get(edge.from) ?? 1) + 1;
      if (wanted > (depth.get(edge.to) ?? 1)) {
        depth.set(edge.to, wanted);
        changed = true;
      }
    }
    if (!changed) break;
  }

  const row = new Map<string, number>();
  const columns: string[][] = [workloadNames];
  workloadNames.forEach((name, index) => row.set(`w:${name}`, index));
  const maxDepth = Math.max(0, ...depth.values());
  for (let column = 1; column <= maxDepth; column++) {
    const here = graph.nodes.filter((node) => depth.get(node.address) === column).map((n) => n.address);
    const weight = (address: string) => {
      const sources = graph.edges
        .filter((e) => e.to === address)
        .map((e) => row.get(e.kind === 'uses' ? `w:${e.from}` : `r:${e.from}`))
        .filter((value): value is number => value !== undefined);
      return sources.length ? sources.reduce((a, b) => a + b, 0) / sources.length : Number.MAX_VALUE;
    };
    here.sort((a, b) => weight(a) - weight(b) || (a < b ? -1 : a > b ? 1 : 0));
    here.forEach((address, index) => row.set(`r:${address}`, index));
    columns.push(here);
  }

  const xOf = (column: number) => PAD + column * (BOX_WIDTH + COLUMN_GAP);
  const yOf = (index: number) => PAD + index * (BOX_HEIGHT + ROW_GAP);
  const byAddress = new Map<string, GraphNode>(graph.nodes.map((node) => [node.address, node]));
  const boxes: GraphBox[] = [];
  columns.forEach((keys, column) =>
    keys.forEach((key, index) => {
      if (column === 0) {
        boxes.push({
          key: `w:${key}`,
          kind: 'workload',
          column,
          x: xOf(column),
          y: yOf(index),
          title: key,
          subtitle: 'workload',
          dashed: false,
        });
        return;
      }
      const node = byAddress.get(key);
      if (!node) return;
      boxes.push({
        key: `r:${key}`,
        kind: 'resource',
        column,
        x: xOf(column),
        y: yOf(index),
        title: key,
        subtitle: describeNode(node),
        dashed: node.builtIn || !node.provisioned,
      });
    }),
  );
  const boxByKey = new Map(boxes.map((box) => [box.key, box]));
  const lines: GraphLine[] = [];
  for (const edge of graph.edges) {
    const from = boxByKey.get(edge.kind === 'uses' ? `w:${edge.from}` : `r:${edge.from}`);
    const to = boxByKey.get(`r:${edge.to}`);
    if (!from || !to) continue;
    const x1 = from.x + BOX_WIDTH;
    const y1 = from.y + BOX_HEIGHT / 2;
    const x2 = to.x - 2;
    const y2 = to.y + BOX_HEIGHT / 2;
    const half = COLUMN_GAP / 2;
    // A line to the next column is one curve. A longer one would cross the boxes between: it runs in the
    // gap above the target's row (rows line up across columns, so that gap is free) and turns in at the end.
    const path =
      to.column - from.column <= 1
        ? `M ${x1} ${y1} C ${x1 + half} ${y1}, ${x2 - half} ${y2}, ${x2} ${y2}`
        : `M ${x1} ${y1} C ${x1 + half} ${y1}, ${x1 + half} ${to.y - ROW_GAP / 2}, ${x1 + COLUMN_GAP} ${to.y - ROW_GAP / 2} ` +
          `L ${x2 - COLUMN_GAP} ${to.y - ROW_GAP / 2} ` +
          `C ${x2 - half} ${to.y - ROW_GAP / 2}, ${x2 - half} ${y2}, ${x2} ${y2}`;
    lines.push({ key: `${edge.kind}:${edge.from}->${edge.to}`, kind: edge.kind, path });
  }
  const rows = Math.max(1, ...columns.map((keys) => keys.length));
  return {
    width: PAD * 2 + columns.length * BOX_WIDTH + (columns.length - 1) * COLUMN_GAP,
    height: PAD * 2 + rows * BOX_HEIGHT + (rows - 1) * ROW_GAP,
    boxes,
    lines,
  };
}

/** `postgres · class default`, plus `shared`, `built-in` or `not provisioned yet` where it applies. */
function describeNode(node: GraphNode): string {
  const notes = [node.type, node.class === 'default' ? '' : `class ${node.class}`];
  if (node.shared) notes.push('shared');
  if (node.builtIn) notes.push('built-in');
  else if (!node.provisioned) notes.push('not provisioned yet');
  return notes.filter(Boolean).join(' · ');
}

/** One sentence for screen readers: how many workloads use how many resources. */
export function summarizeResourceGraph(graph: ResourceGraph, workloads: readonly string[] = []): string {
  const users = new Set([...workloads, ...graph.edges.filter((e) => e.kind === 'uses').map((e) => e.from)]);
  const uses = graph.edges.filter((e) => e.kind === 'uses');
  const dependsOn = graph.edges.filter((e) => e.kind === 'depends-on');
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  const parts = uses.map((e) => `${e.from} uses ${e.to}`);
  parts.push(...dependsOn.map((e) => `${e.from} depends on ${e.to}`));
  return (
    `Resource graph: ${plural(users.size, 'workload')}, ${plural(graph.nodes.length, 'resource')}` +
    (parts.length ? `; ${parts.join('; ')}.` : '.') +
    ' The same graph is listed as text below the drawing.'
  );
}

const clip = (text: string) => (text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text);

/**
 * The resource graph of an environment's current set, drawn: workloads on the left, resources in columns
 * by dependency depth, a solid line where a workload uses a resource and a dashed one where a resource's
 * params use another's outputs. An accessible image with a summary, and the graph as a list below it.
 * With `details`, each resource box is a button (click, or Tab and Enter) that opens a side panel showing
 * what `details` renders for it.
 */
export function ResourceGraphView({
  graph,
  workloads = [],
  details,
}: {
  graph: ResourceGraph;
  /** The environment's workloads, so those that use no resource are drawn too. */
  workloads?: readonly string[];
  /** What the side panel shows for the resource chosen. */
  details?: (node: GraphNode) => ReactNode;
}) {
  const markerId = `arrow-${useId().replace(/[^a-zA-Z0-9_-]/g, '')}`;
  const panelId = `${markerId}-panel`;
  const [selected, setSelected] = useState<string | null>(null);
  const opener = useRef<HTMLButtonElement | null>(null);
  const panel = useRef<HTMLElement>(null);
  if (graph.nodes.length === 0) {
    return <p className="muted">No resources: the current set&apos;s Score files declare none.</p>;
  }
  const layout = layoutResourceGraph(graph, workloads);
  const sourcesOf = (address: string, kind: 'uses' | 'depends-on') =>
    graph.edges.filter((e) => e.to === address && e.kind === kind).map((e) => e.from);
  const chosen = details ? graph.nodes.find((node) => node.address === selected) : undefined;
  const choose = (address: string, button: HTMLButtonElement) => {
    opener.current = button;
    setSelected(address === selected ? null : address);
    // Focus moves into the panel once it is drawn, so that a keyboard user lands on what opened.
    window.requestAnimationFrame(() => panel.current?.focus());
  };
  const close = () => {
    setSelected(null);
    opener.current?.focus();
  };
  return (
    // Escape closes the panel wherever the focus is in the graph: on the panel, or still on the node that
    // opened it (focus moves into the panel only on the next frame).
    <div
      className={chosen ? 'resource-graph with-details' : 'resource-graph'}
      onKeyDown={(event) => {
        if (event.key === 'Escape' && chosen) close();
      }}
    >
      <div className="graph-main">
        {/* Focusable so that keyboard users can scroll a graph wider than the screen. */}
        <div className="graph-canvas" role="group" aria-label="Resource graph drawing" tabIndex={0}>
          <div className="graph-stage" style={{ width: layout.width, height: layout.height }}>
            <svg
              role="img"
              aria-label={summarizeResourceGraph(graph, workloads)}
              width={layout.width}
              height={layout.height}
              viewBox={`0 0 ${layout.width} ${layout.height}`}
            >
              <defs>
                <marker
                  id={markerId}
                  viewBox="0 0 10 10"
                  refX="9"
                  refY="5"
                  markerWidth="7"
                  markerHeight="7"
                  orient="auto-start-reverse"
                >
                  <path d="M 0 0 L 10 5 L 0 10 z" className="graph-arrow" />
                </marker>
              </defs>
              {layout.lines.map((line) => (
                <path
                  key={line.key}
                  d={line.path}
                  className={`graph-edge graph-edge-${line.kind}`}
                  markerEnd={`url(#${markerId})`}
                />
              ))}
              {layout.boxes.map((box) => (
                <g
                  key={box.key}
                  className={`graph-node graph-node-${box.kind}${box.key === `r:${selected}` ? ' graph-node-selected' : ''}`}
                >
                  <title>{`${box.title}: ${box.subtitle}`}</title>
                  <rect
                    x={box.x}
                    y={box.y}
                    width={BOX_WIDTH}
                    height={BOX_HEIGHT}
                    rx={6}
                    strokeDasharray={box.dashed ? '5 3' : undefined}
                  />
                  <text x={box.x + 10} y={box.y + 20} className="graph-title">
                    {clip(box.title)}
                  </text>
                  <text x={box.x + 10} y={box.y + 38} className="graph-subtitle">
                    {clip(box.subtitle)}
                  </text>
                </g>
              ))}
            </svg>
            {/* The boxes' buttons lie over the drawing: the drawing stays one image for screen readers. */}
            {details &&
              layout.boxes
                .filter((box) => box.kind === 'resource')
                .map((box) => (
                  <button
                    key={box.key}
                    type="button"
                    className="graph-node-button"
                    style={{ left: box.x, top: box.y, width: BOX_WIDTH, height: BOX_HEIGHT }}
                    aria-label={`${box.title}: ${box.subtitle}. Show its details`}
                    aria-expanded={box.key === `r:${selected}`}
                    aria-controls={box.key === `r:${selected}` ? panelId : undefined}
                    onClick={(event) => choose(box.title, event.currentTarget)}
                  />
                ))}
          </div>
        </div>
        <p className="graph-legend muted">
          Solid line: a workload uses a resource. Dashed line: a resource depends on another&apos;s outputs.
          Dashed box: built in, or not provisioned yet.
        </p>
        <details className="graph-list">
          <summary>The graph as a list</summary>
          <ul>
            {graph.nodes.map((node) => (
              <li key={node.address}>
                <strong>{node.address}</strong> ({describeNode(node)}
                {node.definitionId ? `, definition ${node.definitionId}` : ''}): used by{' '}
                {sourcesOf(node.address, 'uses').join(', ') || 'no workload'}
                {node.dependsOn.length > 0 && `; depends on ${node.dependsOn.join(', ')}`}
                {sourcesOf(node.address, 'depends-on').length > 0 &&
                  `; needed by ${sourcesOf(node.address, 'depends-on').join(', ')}`}
              </li>
            ))}
          </ul>
        </details>
      </div>
      {chosen && details && (
        <aside
          id={panelId}
          ref={panel}
          className="graph-details"
          aria-label={`Resource ${chosen.address}`}
          tabIndex={-1}
        >
          <div className="section-head">
            <h3>{chosen.address}</h3>
            <button type="button" onClick={close} aria-label={`Close the details of ${chosen.address}`}>
              Close
            </button>
          </div>
          {/* Keyed: another resource starts with its own state (its check result, say). */}
          <div key={chosen.address}>{details(chosen)}</div>
        </aside>
      )}
    </div>
  );
}
