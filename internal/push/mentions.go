package push

import (
	"context"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/model"
)

// Mention limits: a message's mentions push at once and reach "mentions"-only members,
// so a sender who mentions everyone in every message could buzz a whole room as often
// as they type. mentionsAllowed lets at most Config.MentionsPerMinute messages with
// mentions per sender and clock minute (UTC) count as mentions; the rest notify as plain
// messages (digest rules, nothing for "mentions"-only members).

// mentionsAllowed reports whether msg's mentions count. The sender's quota for the
// minute is mentionQuotas/{senderId}_{yyyymmddhhmm}, which remembers the ids of the
// messages it let through, so a redelivered event gets the same answer and never uses
// the quota twice. It is one transaction per message with mentions; messages without
// mentions and senders without a valid uid cost nothing.
func (n *Notifier) mentionsAllowed(ctx context.Context, msg model.Message, messageID string, now time.Time) (bool, error) {
	limit := n.cfg.MentionsPerMinute
	if len(msg.Mentions) == 0 || limit < 0 || model.ValidateID("senderId", msg.SenderID) != nil {
		return true, nil
	}
	window := msg.CreatedAt.UTC()
	if window.IsZero() {
		window = now
	}
	window = window.Truncate(time.Minute)
	ref := n.db.Doc(mentionQuotaPath(msg.SenderID, window))
	allowed := false
	err := n.db.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		allowed = false
		var q model.Quota
		snap, err := tx.Get(ref)
		switch {
		case err == nil:
			if err := snap.DataTo(&q); err != nil {
				return fmt.Errorf("decode %s: %w", ref.Path, err)
			}
		case snap == nil || snap.Exists():
			return err
		}
		if slices.Contains(q.IDs, messageID) {
			allowed = true
			return nil
		}
		if len(q.IDs) >= limit {
			return nil
		}
		q.IDs = append(q.IDs, messageID)
		q.Count = len(q.IDs)
		q.ExpireAt = window.Add(time.Minute).Add(model.QuotaExpiryMargin)
		allowed = true
		return tx.Set(ref, q)
	})
	if err != nil {
		return false, fmt.Errorf("mention quota of %s: %w", msg.SenderID, err)
	}
	if !allowed {
		n.m.suppressed.WithLabelValues(ReasonMentionRate).Inc()
		n.log.Info("mentions over the sender's limit: notified as a plain message", "sender", msg.SenderID,
			"message", messageID, "limit", limit)
	}
	return allowed, nil
}

// mentionQuotaPath is the mention quota of uid for the minute starting at window.
func mentionQuotaPath(uid string, window time.Time) string {
	return model.MentionQuotasCollection + "/" + uid + "_" + window.Format("200601021504")
}
