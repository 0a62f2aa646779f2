// Package reports holds the rules of message reports and the moderation
// queue: a member reports a message of their room once, with a reason; the
// reports of one message are aggregated in reports/{roomId}~{messageId}; a
// message reported by HideThreshold members since the last resolution is
// hidden (messages/{id}.hidden = true); app admins list the queue and resolve
// an entry by dismissing it, redacting the message or banning its sender,
// each audited. Every operation is one Firestore transaction (a redaction or
// a ban is internal/rooms' own transaction, then the resolution's).
package reports

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"cloud.google.com/go/firestore"

	"github.com/hearth-chat/hearth/internal/clock"
	"github.com/hearth-chat/hearth/internal/firestoreerr"
	"github.com/hearth-chat/hearth/internal/model"
	"github.com/hearth-chat/hearth/internal/page"
	"github.com/hearth-chat/hearth/internal/rooms"
)

// Defaults of Config.
const (
	DefaultHideThreshold = 3
	DefaultPerHour       = 20
)

// Config sets the limits of reports.
type Config struct {
	// HideThreshold is how many members must report a message (since the
	// last resolution) before it is hidden; at least 1.
	HideThreshold int
	// PerHour is how many reports one user may file per hour (UTC clock
	// hours); at least 1.
	PerHour int
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	var errs []error
	if c.HideThreshold < 1 {
		errs = append(errs, fmt.Errorf("reports: hide threshold %d: must be at least 1", c.HideThreshold))
	}
	if c.PerHour < 1 {
		errs = append(errs, fmt.Errorf("reports: reports per hour %d: must be at least 1", c.PerHour))
	}
	return errors.Join(errs...)
}

// Moderation is what resolving a report asks of the room rules;
// *rooms.Service implements it.
type Moderation interface {
	Redact(ctx context.Context, in rooms.ModerationInput) (rooms.Message, error)
	Ban(ctx context.Context, in rooms.ModerationInput) (rooms.Member, error)
}

// Auditor records an audited action in tx (rooms.Auditor's shape).
type Auditor interface {
	Audit(ctx context.Context, tx *firestore.Transaction, e model.AuditEntry) error
}

// The audited actions of this package (auditLog/{id}.action).
const (
	ActionDismiss = "report.dismiss"
	ActionRedact  = "report.redact"
	ActionBan     = "report.ban"
)

// Deps are the Service's dependencies; all are required.
type Deps struct {
	Firestore *firestore.Client
	Rooms     Moderation
	Audit     Auditor
	Clock     clock.Clock
}

// Service files and resolves reports. Create it with New.
type Service struct {
	cfg   Config
	fs    *firestore.Client
	rooms Moderation
	audit Auditor
	clock clock.Clock
}

// New checks cfg and deps and returns a Service.
func New(cfg Config, deps Deps) (*Service, error) {
	errs := []error{cfg.Validate()}
	if deps.Firestore == nil {
		errs = append(errs, errors.New("reports: Firestore client required"))
	}
	if deps.Rooms == nil {
		errs = append(errs, errors.New("reports: room moderation required"))
	}
	if deps.Audit == nil {
		errs = append(errs, errors.New("reports: auditor required"))
	}
	if deps.Clock == nil {
		errs = append(errs, errors.New("reports: clock required"))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, fs: deps.Firestore, rooms: deps.Rooms, audit: deps.Audit, clock: deps.Clock}, nil
}

func (s *Service) now() time.Time { return s.clock.Now().UTC() }

// Input is a member's report of a message.
type Input struct {
	Reporter  string
	RoomID    string
	MessageID string
	Reason    model.ReportReason
	Note      string
}

// Filed is a report as its reporter sees it: their own, never the others'.
type Filed struct {
	RoomID    string
	MessageID string
	model.Reporter
}

// Report files in.Reporter's report of a message of a room they are a
// member of: rooms.ErrNotFound / rooms.ErrNotMember / rooms.ErrMessageNotFound
// when there is nothing they may report, ErrOwnMessage, ErrNotReportable (a
// deleted or system message), ErrAlreadyReported (one report per member per
// message), *RateLimitError beyond Config.PerHour in the current hour. The
// report joins the message's queue entry (reopening a resolved one), and the
// message is hidden when the reports since the last resolution reach
// Config.HideThreshold.
func (s *Service) Report(ctx context.Context, in Input) (Filed, error) {
	if err := model.JoinValidation(
		model.ValidateID("reporter", in.Reporter),
		model.ValidateRoomID("roomId", in.RoomID),
		model.ValidateID("messageId", in.MessageID),
		model.ValidateReport(in.Reason, in.Note),
	); err != nil {
		return Filed{}, err
	}
	now := s.now()
	window := now.Truncate(time.Hour)
	refs := []*firestore.DocumentRef{
		s.fs.Doc(model.RoomPath(in.RoomID)),
		s.fs.Doc(model.MessagePath(in.RoomID, in.MessageID)),
		s.fs.Doc(model.ReporterPath(in.RoomID, in.MessageID, in.Reporter)),
		s.fs.Doc(model.ReportPath(in.RoomID, in.MessageID)),
		s.fs.Doc(quotaPath(in.Reporter, window)),
	}
	out := Filed{RoomID: in.RoomID, MessageID: in.MessageID,
		Reporter: model.Reporter{Reason: in.Reason, Note: in.Note, CreatedAt: now}}
	err := s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		snaps, err := tx.GetAll(refs)
		if err != nil {
			return err
		}
		var room model.Room
		if !snaps[0].Exists() {
			return rooms.ErrNotFound
		}
		if err := snaps[0].DataTo(&room); err != nil {
			return fmt.Errorf("decode room: %w", err)
		}
		if !slices.Contains(room.MemberIDs, in.Reporter) {
			return rooms.ErrNotMember
		}
		var msg model.Message
		if !snaps[1].Exists() {
			return rooms.ErrMessageNotFound
		}
		if err := snaps[1].DataTo(&msg); err != nil {
			return fmt.Errorf("decode message: %w", err)
		}
		switch {
		case msg.SenderID == in.Reporter:
			return ErrOwnMessage
		case msg.Deleted() || !msg.Type.ClientWritable():
			return ErrNotReportable
		case snaps[2].Exists():
			return ErrAlreadyReported
		}
		var quota model.Quota
		if snaps[4].Exists() {
			if err := snaps[4].DataTo(&quota); err != nil {
				return fmt.Errorf("decode quota: %w", err)
			}
		}
		if quota.Count >= s.cfg.PerHour {
			return &RateLimitError{Limit: s.cfg.PerHour, RetryAfter: window.Add(time.Hour).Sub(now)}
		}
		var rep model.Report
		if snaps[3].Exists() {
			if err := snaps[3].DataTo(&rep); err != nil {
				return fmt.Errorf("decode report: %w", err)
			}
		} else {
			rep = model.Report{RoomID: in.RoomID, MessageID: in.MessageID, SenderID: msg.SenderID,
				Text: msg.Text, FirstReportedAt: now}
		}
		if rep.Reasons == nil {
			rep.Reasons = map[string]int{}
		}
		rep.Reasons[string(in.Reason)]++
		if !slices.Contains(rep.ReasonList, string(in.Reason)) {
			rep.ReasonList = append(rep.ReasonList, string(in.Reason))
			slices.Sort(rep.ReasonList)
		}
		rep.Count++
		rep.Pending++
		rep.LastReportedAt = now
		if rep.Status != model.ReportOpen {
			rep.Status, rep.Resolution = model.ReportOpen, nil
		}
		hide := !msg.Hidden && rep.Pending >= s.cfg.HideThreshold
		rep.Hidden = msg.Hidden || hide
		quota.Count++
		quota.ExpireAt = window.Add(time.Hour).Add(model.QuotaExpiryMargin)
		if err := tx.Create(refs[2], out.Reporter); err != nil {
			return err
		}
		if err := tx.Set(refs[3], rep); err != nil {
			return err
		}
		if err := tx.Set(refs[4], quota); err != nil {
			return err
		}
		if hide {
			return tx.Update(refs[1], []firestore.Update{{Path: model.FieldHidden, Value: true}})
		}
		return nil
	})
	if err != nil {
		return Filed{}, fmt.Errorf("report %s: %w", model.MessagePath(in.RoomID, in.MessageID), err)
	}
	return out, nil
}

// quotaPath is the report quota document of uid for the hour starting at window.
func quotaPath(uid string, window time.Time) string {
	return model.ReportQuotasCollection + "/" + uid + "_" + window.Format("2006010215")
}

// Entry is a queue entry: a report document and its id.
type Entry struct {
	ID string
	model.Report
}

// ListInput filters the queue. Zero fields do not filter (Status: open).
type ListInput struct {
	Status model.ReportStatus
	RoomID string
	Reason model.ReportReason
	// OlderThan keeps entries first reported before it.
	OlderThan time.Time
	Limit     int
	// After is the NextPageToken of the previous page.
	After string
}

// Page is one page of the queue, oldest first reported first.
type Page struct {
	Entries []Entry
	Next    string
}

// ErrCursorGone: the page token's entry no longer exists.
var ErrCursorGone = page.ErrCursorGone

// List returns a page of the queue, oldest first (by firstReportedAt, then
// id): the entry that has waited longest comes first.
func (s *Service) List(ctx context.Context, in ListInput) (Page, error) {
	if in.Status == "" {
		in.Status = model.ReportOpen
	}
	var fields []model.FieldError
	if in.Status != model.ReportOpen && in.Status != model.ReportResolved {
		fields = append(fields, model.FieldError{Field: "status", Reason: "must be open or resolved"})
	}
	if in.RoomID != "" && model.ValidateRoomID("roomId", in.RoomID) != nil {
		fields = append(fields, model.FieldError{Field: "roomId", Reason: "not a room id"})
	}
	if in.Reason != "" && !in.Reason.Valid() {
		fields = append(fields, model.FieldError{Field: "reason", Reason: fmt.Sprintf("must be one of %q", model.ReportReasons())})
	}
	if in.After != "" {
		if _, _, ok := ParseID(in.After); !ok {
			fields = append(fields, model.FieldError{Field: "pageToken", Reason: "not a page token of this list"})
		}
	}
	if in.Limit < 1 {
		fields = append(fields, model.FieldError{Field: "limit", Reason: "must be positive"})
	}
	if len(fields) > 0 {
		return Page{}, &model.ValidationError{Fields: fields}
	}
	q := s.fs.Collection(model.ReportsCollection).Where("status", "==", string(in.Status))
	if in.RoomID != "" {
		q = q.Where("roomId", "==", in.RoomID)
	}
	if in.Reason != "" {
		q = q.Where("reasonList", "array-contains", string(in.Reason))
	}
	if !in.OlderThan.IsZero() {
		q = q.Where("firstReportedAt", "<", in.OlderThan)
	}
	q = q.OrderBy("firstReportedAt", firestore.Asc)
	var cursor *firestore.DocumentRef
	if in.After != "" {
		cursor = s.fs.Collection(model.ReportsCollection).Doc(in.After)
	}
	entries, next, err := page.Read(ctx, q, cursor, in.Limit, "reports",
		func(id string, r model.Report) Entry { return Entry{ID: id, Report: r} })
	if err != nil {
		return Page{}, err
	}
	return Page{Entries: entries, Next: next}, nil
}

// ParseID splits a report id into its room and message ids.
func ParseID(id string) (roomID, messageID string, ok bool) {
	roomID, messageID, ok = strings.Cut(id, model.ReportIDSeparator)
	if !ok || model.ValidateRoomID("roomId", roomID) != nil || model.ValidateID("messageId", messageID) != nil {
		return "", "", false
	}
	return roomID, messageID, true
}

// ResolveInput resolves a queue entry.
type ResolveInput struct {
	// Actor is the app admin who resolves.
	Actor  string
	ID     string
	Action model.ReportAction
	Note   string
}

// Resolve resolves the open entry in.ID: dismiss (the message is shown
// again), redact (rooms' redaction of the message, as an app admin) or ban
// (rooms' ban of the sender from the room, as an app admin). The entry
// becomes resolved with the resolution, in one transaction with its audit
// entry (report.dismiss, report.redact, report.ban; the redaction and the ban
// write their own too). ErrNotFound for an unknown id, ErrAlreadyResolved for
// a resolved entry. A redaction or ban that succeeded before a failure of the
// resolution is repeated harmlessly by a retry.
func (s *Service) Resolve(ctx context.Context, in ResolveInput) (Entry, error) {
	var fields []model.FieldError
	if model.ValidateID("actor", in.Actor) != nil {
		fields = append(fields, model.FieldError{Field: "actor", Reason: "not a uid"})
	}
	if !in.Action.Valid() {
		fields = append(fields, model.FieldError{Field: "action", Reason: fmt.Sprintf("must be one of %q", model.ReportActions())})
	}
	if err := model.ValidateReport(model.ReportOther, in.Note); err != nil {
		fields = append(fields, model.FieldError{Field: "note", Reason: fmt.Sprintf("at most %d characters of valid UTF-8", model.MaxReportNoteLen)})
	}
	if len(fields) > 0 {
		return Entry{}, &model.ValidationError{Fields: fields}
	}
	roomID, messageID, ok := ParseID(in.ID)
	if !ok {
		return Entry{}, ErrNotFound
	}
	ref := s.fs.Doc(model.ReportPath(roomID, messageID))
	rep, err := s.get(ctx, ref)
	if err != nil {
		return Entry{}, err
	}
	if rep.Status == model.ReportResolved {
		return Entry{}, ErrAlreadyResolved
	}
	mod := rooms.ModerationInput{Moderator: rooms.Moderator{UID: in.Actor, AppAdmin: true}, RoomID: roomID, Reason: in.Note}
	switch in.Action {
	case model.ReportRedact:
		mod.Target = messageID
		// A message (or room) that is gone has nothing left to redact.
		if _, err := s.rooms.Redact(ctx, mod); err != nil &&
			!errors.Is(err, rooms.ErrMessageNotFound) && !errors.Is(err, rooms.ErrNotFound) {
			return Entry{}, err
		}
	case model.ReportBan:
		mod.Target = rep.SenderID
		if _, err := s.rooms.Ban(ctx, mod); err != nil {
			return Entry{}, err
		}
	}
	now := s.now()
	var out Entry
	err = s.fs.RunTransaction(ctx, func(ctx context.Context, tx *firestore.Transaction) error {
		msgRef := s.fs.Doc(model.MessagePath(roomID, messageID))
		snaps, err := tx.GetAll([]*firestore.DocumentRef{ref, msgRef})
		if err != nil {
			return err
		}
		if !snaps[0].Exists() {
			return ErrNotFound
		}
		var r model.Report
		if err := snaps[0].DataTo(&r); err != nil {
			return fmt.Errorf("decode report: %w", err)
		}
		if r.Status == model.ReportResolved {
			return ErrAlreadyResolved
		}
		r.Status, r.Pending = model.ReportResolved, 0
		r.Resolution = &model.ReportResolution{Action: in.Action, By: in.Actor, At: now, Note: in.Note}
		if in.Action == model.ReportDismiss && snaps[1].Exists() {
			if hidden, _ := snaps[1].DataAt(model.FieldHidden); hidden == true {
				if err := tx.Update(msgRef, []firestore.Update{{Path: model.FieldHidden, Value: false}}); err != nil {
					return err
				}
			}
			r.Hidden = false
		}
		if err := tx.Set(ref, r); err != nil {
			return err
		}
		out = Entry{ID: in.ID, Report: r}
		return s.audit.Audit(ctx, tx, model.AuditEntry{
			At: now, ActorUID: in.Actor, Action: auditAction(in.Action), Target: ref.Path, Reason: in.Note,
			Details: map[string]string{"roomId": roomID, "messageId": messageID, "senderId": r.SenderID},
		})
	})
	if err != nil {
		return Entry{}, fmt.Errorf("resolve report %s: %w", in.ID, err)
	}
	return out, nil
}

func auditAction(a model.ReportAction) string {
	switch a {
	case model.ReportRedact:
		return ActionRedact
	case model.ReportBan:
		return ActionBan
	}
	return ActionDismiss
}

// Get returns the queue entry id, or ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (Entry, error) {
	roomID, messageID, ok := ParseID(id)
	if !ok {
		return Entry{}, ErrNotFound
	}
	r, err := s.get(ctx, s.fs.Doc(model.ReportPath(roomID, messageID)))
	if err != nil {
		return Entry{}, err
	}
	return Entry{ID: id, Report: r}, nil
}

func (s *Service) get(ctx context.Context, ref *firestore.DocumentRef) (model.Report, error) {
	var r model.Report
	snap, err := ref.Get(ctx)
	if err != nil {
		if firestoreerr.IsNotFound(err) {
			return r, ErrNotFound
		}
		return r, fmt.Errorf("get %s: %w", ref.Path, err)
	}
	if err := snap.DataTo(&r); err != nil {
		return r, fmt.Errorf("decode %s: %w", ref.Path, err)
	}
	return r, nil
}
