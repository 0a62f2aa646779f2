package reports

import (
	"errors"
	"fmt"
	"time"
)

// The refusals of this package. Check them with errors.Is / errors.As; the API
// maps each to its status and reason.
var (
	// ErrAlreadyReported: the member already reported this message.
	ErrAlreadyReported = errors.New("you already reported this message")
	// ErrOwnMessage: a member reported their own message.
	ErrOwnMessage = errors.New("you cannot report your own message")
	// ErrNotReportable: the message is deleted or one of Hearth's system
	// messages.
	ErrNotReportable = errors.New("this message cannot be reported")
	// ErrNotFound: no queue entry has this id.
	ErrNotFound = errors.New("report not found")
	// ErrAlreadyResolved: the queue entry is resolved already (a new report
	// of the message reopens it).
	ErrAlreadyResolved = errors.New("the report is already resolved")
)

// RateLimitError: the reporter filed Limit reports this hour already.
type RateLimitError struct {
	Limit int
	// RetryAfter is the time until the next hour begins.
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("at most %d reports per hour; try again later", e.Limit)
}
