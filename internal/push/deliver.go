package push

import (
	"context"
	"errors"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	"golang.org/x/sync/errgroup"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
)

// maxRounds bounds how often one fan-out claims again the messages that became due while
// it was sending (mentions and direct messages that arrived meanwhile); the flusher sends
// whatever is left.
const maxRounds = 3

// fallbackName stands in for a sender whose profile is missing.
const fallbackName = "Someone"

// leaseReserve is the share of a lease kept for recording the outcome of its send: a send
// runs under a deadline 1/leaseReserve of the lease before the lease ends (45 s after the
// claim with the default 60 s lease, leaving 15 s for the queue commits). FCM calls cut at
// the deadline count as transient failures and are retried through the queue. Without
// the bound, a send held up inside the Admin SDK (it retries 503s and network errors
// itself, waiting out Retry-After up to 2 minutes per try) could outlive its lease, and
// another instance would claim the entry and send it a second time.
const leaseReserve = 4

// stoppedCompleteTimeout bounds the recording of outcomes after the caller's context
// ended mid-send (shutdown): what FCM accepted is recorded, so that it is not sent again
// when the lease expires.
const stoppedCompleteTimeout = 2 * time.Second

// errLeaseDeadline is the cause of a send cut at its lease's send deadline.
var errLeaseDeadline = errors.New("push: send cut at the deadline of its lease")

// sendContext returns ctx, canceled with cause errLeaseDeadline when the notifier's clock
// reaches the send deadline of claims: the earliest of their leases' ends less
// 1/leaseReserve of the lease. The deadline is on the clock that judges the leases (a fake
// one in tests). stop releases it.
func (n *Notifier) sendContext(ctx context.Context, claims []*claim) (sctx context.Context, stop func()) {
	var until time.Time
	for _, c := range claims {
		until = earliest(until, c.until)
	}
	sctx, cancel := context.WithCancelCause(ctx)
	stop = func() { cancel(context.Canceled) }
	wait := until.Add(-n.cfg.Lease / leaseReserve).Sub(n.now())
	if wait <= 0 {
		cancel(errLeaseDeadline)
		return sctx, stop
	}
	expired := n.clock.After(wait)
	go func() {
		select {
		case <-expired:
			cancel(errLeaseDeadline)
		case <-sctx.Done():
		}
	}()
	return sctx, stop
}

// deliver sends the notifications of claimed entries and completes the claims. kind is
// KindImmediate (the message trigger) or KindDigest (the flusher). It returns an error
// only when the queue could not be updated; failed sends are retried through the queue.
func (n *Notifier) deliver(ctx context.Context, claims []*claim, kind string, ld *loader) error {
	var errs []error
	for round := 0; len(claims) > 0 && round < maxRounds; round++ {
		if round > 0 {
			ld = ld.next()
		}
		next, err := n.deliverOnce(ctx, claims, kind, ld, round < maxRounds-1)
		errs = append(errs, err)
		claims = next
	}
	return errors.Join(errs...)
}

// push is one claim on its way: its rendered content, its deliveries, its outcome.
type push struct {
	c       *claim
	content content
	devs    []*delivery
	out     outcome
}

func (n *Notifier) deliverOnce(ctx context.Context, claims []*claim, kind string, ld *loader, reclaim bool) ([]*claim, error) {
	if err := ld.claims(ctx, claims); err != nil {
		// Nothing was sent: hand the entries back to the queue for a retry with backoff.
		n.log.Warn("load push recipients", "claims", len(claims), "err", err)
		_, cerr := n.completeAll(ctx, claims, func(*claim) outcome { return outcome{reason: "load: " + err.Error()} }, false)
		return nil, errors.Join(err, cerr)
	}
	now := n.now()
	pushes := make([]*push, 0, len(claims))
	var all []*delivery
	var stale []device
	for _, c := range claims {
		p := &push{c: c}
		pushes = append(pushes, p)
		var reason string
		p.content, reason = n.prepare(c, ld, now)
		if reason != "" {
			p.out = outcome{done: true, reason: reason}
			continue
		}
		seen := map[string]bool{}
		for _, d := range ld.devices[c.uid] {
			switch {
			case d.token == "" || seen[d.token]:
				continue
			case !d.registered.IsZero() && now.Sub(d.registered) > n.cfg.TokenMaxAge:
				stale = append(stale, d)
				continue
			}
			seen[d.token] = true
			p.devs = append(p.devs, &delivery{dev: d})
		}
		if len(p.devs) == 0 {
			p.out = outcome{done: true, reason: ReasonNoDevices}
			continue
		}
		all = append(all, p.devs...)
	}
	n.badges(ctx, ld, pushes)
	sctx, stopSend := n.sendContext(ctx, claims)
	sendErr := n.fan.send(sctx, all)
	stopSend()
	var stopped error // ctx's error when it ended mid-send
	if sendErr != nil {
		// The deliveries FCM did not answer are transient failures: their pushes go back
		// to the queue. What FCM accepted is recorded all the same, under the lease that is
		// still ours, so that it is not sent again.
		if stopped = ctx.Err(); stopped != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stoppedCompleteTimeout)
			defer cancel()
			ctx, reclaim = cctx, false
		} else {
			n.log.Warn("push send cut at the deadline of its lease", "claims", len(claims), "messages", len(all), "lease", n.cfg.Lease)
		}
	}

	var prune []pruning
	for _, d := range stale {
		prune = append(prune, pruning{d, PruneStale})
	}
	for _, p := range pushes {
		if p.out.done {
			n.m.suppressed.WithLabelValues(p.out.reason).Inc()
			n.log.Debug("push suppressed", "recipient", p.c.uid, "room", p.c.roomID, "kind", kind, "reason", p.out.reason)
			continue
		}
		p.out = n.outcomeOf(p, kind)
		for _, d := range p.devs {
			if d.fail != nil && d.fail.action == actPrune {
				prune = append(prune, pruning{d.dev, d.fail.reason})
			}
		}
		if n.cfg.LogEachPush {
			n.logPush(p, kind)
		}
	}
	n.prune(ctx, prune)
	byClaim := make(map[*claim]outcome, len(pushes))
	for _, p := range pushes {
		byClaim[p.c] = p.out
	}
	next, err := n.completeAll(ctx, claims, func(c *claim) outcome { return byClaim[c] }, reclaim)
	return next, errors.Join(stopped, err)
}

// prepare checks, at send time, that the recipient still wants this notification and
// renders its content; a non-empty reason says why not. The rules are those of the
// message trigger, read again: a digest waits up to a window, in which the recipient may
// have muted, left, opened or read the room.
func (n *Notifier) prepare(c *claim, ld *loader, now time.Time) (content, string) {
	room := ld.rooms[c.roomID]
	if room == nil || !slices.Contains(room.MemberIDs, c.uid) {
		return content{}, ReasonNotMember
	}
	ms := ld.memberships[key(c.uid, c.roomID)]
	if c.shown() == 0 {
		return content{}, ReasonBlocked // every item is from a sender blocked since
	}
	mentioned := c.mentioned()
	r := recipient{uid: c.uid, membership: ms, presence: ld.presence[c.uid]}
	if reason := suppressed(now, c.roomID, room.Type, mentioned, r); reason != "" {
		return content{}, reason
	}
	c.mentionsOnly = ms != nil && ms.Notifications == model.NotifyMentions && room.Type != model.RoomDirect
	if readPast(ms, c.lastAt) {
		return content{}, ReasonRead
	}
	reaction, isReaction := parseQueued(c.featuredID())
	msg := ld.messages[key(c.roomID, messageOf(c.featuredID()))]
	if msg != nil && msg.Deleted() {
		msg = nil
	}
	if msg == nil && c.shown() <= 1 {
		return content{}, ReasonDeleted
	}
	ct := content{
		RoomID:    c.roomID,
		RoomType:  room.Type,
		RoomTitle: room.Title,
		Count:     max(c.shown(), 1),
		MessageID: messageOf(c.featuredID()),
		Message:   msg,
		Mentioned: mentioned,
		Previews:  true,
		Urgent:    mentioned || room.Type == model.RoomDirect,
	}
	switch {
	case room.Type == model.RoomDirect:
		ct.SenderName = ld.displayName(otherMember(room, c.uid))
	case msg != nil:
		ct.SenderName = ld.displayName(msg.SenderID)
	}
	switch {
	case isReaction:
		ct.Reaction = reaction.emoji
		ct.Mentioned = false
		if room.Type != model.RoomDirect {
			ct.SenderName = ld.displayName(reaction.reactor)
		}
	case msg != nil && msg.ReplyTo != "" && mentioned && !slices.Contains(msg.Mentions, c.uid):
		ct.Reply = true // personal as a reply in the recipient's thread, not a mention
	}
	if ct.SenderName == "" {
		ct.SenderName = fallbackName
	}
	if u := ld.users[c.uid]; u != nil {
		ct.Previews = u.Settings.NotificationPreviewsEnabled()
	}
	return ct, ""
}

// badges reads the badge numbers of the pushes that will be sent (not suppressed, with
// devices) and renders their messages.
func (n *Notifier) badges(ctx context.Context, ld *loader, pushes []*push) {
	var uids []string
	for _, p := range pushes {
		if len(p.devs) > 0 {
			uids = append(uids, p.c.uid)
		}
	}
	ld.loadBadges(ctx, uids)
	for _, p := range pushes {
		p.content.Badge = ld.badges[p.c.uid]
		for _, d := range p.devs {
			d.msg = n.message(p.content, d.dev)
		}
	}
}

// outcomeOf sums up the deliveries of one push: sent when any device accepted it
// (devices that failed transiently then miss this one notification: resending would
// notify the others twice); retried through the queue when all failed transiently;
// done otherwise (dead tokens, permanent errors).
func (n *Notifier) outcomeOf(p *push, kind string) outcome {
	ok, retry := 0, 0
	var wait time.Duration
	var reason string
	for _, d := range p.devs {
		switch {
		case d.ok:
			ok++
		case d.fail != nil && d.fail.action == actRetry:
			retry++
			wait = max(wait, d.fail.retryAfter)
			reason = d.fail.reason
		case d.fail != nil && reason == "":
			reason = d.fail.reason
		}
	}
	switch {
	case ok > 0:
		n.m.sent.WithLabelValues(kind).Add(float64(ok))
		n.m.digestSize.Observe(float64(p.content.Count))
		return outcome{done: true, sent: true}
	case retry > 0:
		return outcome{reason: reason, retryAfter: wait}
	}
	return outcome{done: true, reason: reason}
}

// logPush is the dev-mode line per push.
func (n *Notifier) logPush(p *push, kind string) {
	ok, failed := 0, 0
	var reasons []string
	for _, d := range p.devs {
		if d.ok {
			ok++
			continue
		}
		failed++
		if d.fail != nil && !slices.Contains(reasons, d.fail.reason) {
			reasons = append(reasons, d.fail.reason)
		}
	}
	n.log.Info("push",
		"recipient", p.c.uid, "room", p.c.roomID, "kind", kind, "count", p.content.Count,
		"tokens", len(p.devs), "sent", ok, "failed", failed, "errors", reasons,
		"title", p.content.title().English, "body", p.content.body().English)
}

// PruneStale labels devices deleted because their token is older than TokenMaxAge; the
// other prune reasons are FailUnregistered and FailInvalidToken.
const PruneStale = "stale"

// pruning is a device to delete and why.
type pruning struct {
	dev    device
	reason string
}

// prune deletes the device documents of dead tokens. Each delete is conditional on the
// document being unchanged since it was read, so a device that registered a new token
// meanwhile keeps it.
func (n *Notifier) prune(ctx context.Context, list []pruning) {
	if len(list) == 0 {
		return
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(n.cfg.Concurrency)
	for _, pr := range list {
		d := pr.dev
		g.Go(func() error {
			var opts []firestore.Precondition
			if !d.updated.IsZero() {
				opts = append(opts, firestore.LastUpdateTime(d.updated))
			}
			_, err := n.db.Doc(model.DevicePath(d.uid, d.id)).Delete(gctx, opts...)
			switch {
			case err == nil:
				n.m.pruned.WithLabelValues(pr.reason).Inc()
				n.log.Info("device pruned", "uid", d.uid, "device", d.id, "reason", pr.reason)
			case status.Code(err) == codes.FailedPrecondition || firestoreerr.IsNotFound(err):
				// re-registered or already gone
			default:
				n.log.Warn("prune device", "uid", d.uid, "device", d.id, "err", err)
			}
			return nil
		})
	}
	_ = g.Wait()
}

// completeAll completes every claim, Concurrency at a time, and returns the claims taken
// again for messages that became due during the send.
func (n *Notifier) completeAll(ctx context.Context, claims []*claim, out func(*claim) outcome, reclaim bool) ([]*claim, error) {
	return claimEach(claims, n.cfg.Concurrency, func(c *claim) (*claim, error) {
		return n.complete(ctx, c, out(c), reclaim)
	})
}
