// User feedback (Sentry user_report / feedback) on an issue or an event page: who wrote what, when,
// and (on the issue page) about which event.

import type { z } from "@hono/zod-openapi";
import type { FC } from "hono/jsx";
import type { FeedbackSchema } from "../../routes/feedback";
import { When } from "./badges";

export type Feedback = z.infer<typeof FeedbackSchema>;

export const FeedbackList: FC<{ projectId: string; feedback: Feedback[]; showEvent?: boolean }> = ({
  projectId,
  feedback,
  showEvent,
}) => (
  <div class="card feedback">
    <h2>User feedback</h2>
    {feedback.length === 0 ? (
      <p class="muted small">No user feedback.</p>
    ) : (
      <table>
        <tbody>
          {feedback.map((f) => (
            <tr class="feedback-item">
              <td class="nowrap small">
                <When iso={f.createdAt} />
              </td>
              <td>
                <div class="feedback-message" style="white-space:pre-wrap;word-break:break-word">
                  {f.message}
                </div>
                <div class="muted small">
                  {[f.name, f.email].filter(Boolean).join(" · ") || "anonymous"}
                  {f.url ? ` · ${f.url}` : ""}
                </div>
              </td>
              {showEvent ? (
                <td class="small">
                  {f.eventId ? <a href={`/ui/projects/${projectId}/events/${f.eventId}`}>event</a> : null}
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    )}
  </div>
);
