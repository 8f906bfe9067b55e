import type { Session } from '../session.ts';
import { WebhooksPanel } from '../components/webhooks-panel.tsx';

/**
 * The "Org-wide webhooks" tab: the webhooks of no app, which receive the events of every app and the
 * org-wide events, managed as an app's webhooks are on its page (the same panel, with
 * `webhook.manage-org`).
 */
export function OrgWebhooksTab({ session }: { session: Session }) {
  return (
    <WebhooksPanel
      session={session}
      app={null}
      title="Org-wide webhooks"
      intro={
        <p className="muted">
          An org-wide webhook receives the events of every app and the org-wide events, those about no app:
          changes to runtime targets, resource definitions, policies, workload profiles, templates and
          environment types, and grants of roles outside apps. An app&apos;s own webhooks, which receive its
          events alone, are on each app&apos;s page.
        </p>
      }
    />
  );
}
