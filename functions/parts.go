package functions

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/hearth-chat/hearth/internal/firestoreevent"
)

// Notifier is the push side of the message and membership triggers: what
// onMessageWritten and onMembershipWritten call besides the inbox. *push.Notifier
// implements it. Both methods re-read what they act on (the event only says where to
// look), are idempotent, and return an error only when a retry is wanted.
type Notifier interface {
	// HandleMessageCreated notifies the members of a new message: it is called for
	// the creation of rooms/{roomId}/messages/{messageId} only.
	HandleMessageCreated(ctx context.Context, ev *firestoreevent.Event) error
	// HandleMembershipWritten drops a pending digest when users/{uid}/memberships/
	// {roomId} was read past it, muted, set to "none" or deleted; it is called for
	// every write of a membership.
	HandleMembershipWritten(ctx context.Context, ev *firestoreevent.Event) error
}

// MediaChecks is the media side of the message trigger. *media.Processor implements
// it. Both methods decide from what Firestore holds now, are idempotent, and return an
// error only when a retry is wanted.
type MediaChecks interface {
	// HandleMessageEvent gives a new pending media message the result of an upload
	// check that finished before the message was written; it is called for the
	// creation of a message only.
	HandleMessageEvent(ctx context.Context, ev *firestoreevent.Event) error
	// HandleMessageWritten removes the upload of a message that stopped carrying it
	// (soft-deleted, redacted, hard-deleted); it is called for every write of a
	// message.
	HandleMessageWritten(ctx context.Context, ev *firestoreevent.Event) error
}

// part is one consumer of a trigger's event: the inbox, push or media.
type part struct {
	name   string
	handle Handler
}

// dispatch runs every part on ev at once, each to its end whatever the others do, so
// one event delivery serves all of them. A panic of a part becomes its error. The
// result asks for a retry when any part wants one; the redelivery then runs every part
// again, which each one's idempotence makes safe (the inbox recomputes, push claims
// each message once per recipient, media re-reads the upload). Only when every failed
// part failed for good is the result Permanent.
func (p *Pipeline) dispatch(ctx context.Context, ev *firestoreevent.Event, parts ...part) error {
	if len(parts) == 1 {
		return parts[0].handle(ctx, ev)
	}
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, pt := range parts {
		wg.Go(func() {
			defer func() {
				if r := recover(); r != nil {
					errs[i] = fmt.Errorf("%s panicked: %v", pt.name, r)
				}
			}()
			errs[i] = wrapPart(pt.name, pt.handle(ctx, ev))
		})
	}
	wg.Wait()
	var retry, permanent []error
	for _, err := range errs {
		switch {
		case err == nil:
		case IsPermanent(err):
			permanent = append(permanent, err)
		default:
			retry = append(retry, err)
		}
	}
	if len(retry) > 0 {
		for _, err := range permanent {
			p.log.WarnContext(ctx, "event part failed, not retried", "document", ev.Document, "event", ev.ID, "err", err)
		}
		return errors.Join(retry...)
	}
	if len(permanent) > 0 {
		return Permanent(errors.Join(permanent...))
	}
	return nil
}

func wrapPart(name string, err error) error {
	if err == nil {
		return nil
	}
	if IsPermanent(err) {
		return Permanent(fmt.Errorf("%s: %w", name, err))
	}
	return fmt.Errorf("%s: %w", name, err)
}
