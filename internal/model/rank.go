package model

// Rank is who a moderator is, for moderation that must respect who did what
// before: an app admin (the custom claim admin: true) outranks a room's
// owners, who outrank its admins (the room's moderators), who outrank its
// members. A ban records the rank of whoever set it (Member.BannedByRank),
// and a lower rank can neither lift that ban nor redact the messages of a
// higher rank's author.
type Rank string

// The ranks, stored in Member.BannedByRank.
const (
	RankAppAdmin  Rank = "appAdmin"
	RankOwner     Rank = "owner"
	RankModerator Rank = "moderator"
	RankMember    Rank = "member"
)

// level orders the ranks; 0 is not a rank.
func (r Rank) level() int {
	switch r {
	case RankAppAdmin:
		return 4
	case RankOwner:
		return 3
	case RankModerator:
		return 2
	case RankMember:
		return 1
	}
	return 0
}

// Valid reports whether r is one of the defined ranks.
func (r Rank) Valid() bool { return r.level() > 0 }

// AtLeast reports whether r is o's rank or higher. An unknown rank is below
// every rank, and no rank is at least an unknown one.
func (r Rank) AtLeast(o Rank) bool {
	return r.Valid() && o.Valid() && r.level() >= o.level()
}

// RoleRank is the rank a room role gives: owner, moderator (the room's
// admins) or member. Anything else, such as no role at all, is a member.
func RoleRank(r Role) Rank {
	switch r {
	case RoleOwner:
		return RankOwner
	case RoleAdmin:
		return RankModerator
	}
	return RankMember
}

// BanRank is the rank that set a ban, from the member doc. A ban written
// before bans recorded their rank (BannedByRank empty), or with a value no
// ban can have (member, or one this version does not know), counts as an app
// admin's: the doc does not say who outranks its setter, so only the highest
// rank may lift it. Failing closed keeps an old app admin's ban from being
// lifted by a room moderator.
func (m Member) BanRank() Rank {
	if m.BannedByRank.AtLeast(RankModerator) {
		return m.BannedByRank
	}
	return RankAppAdmin
}

// CanLiftBan reports whether a moderator of rank actor may lift a ban set by
// rank setBy: only the same or a higher rank may.
func CanLiftBan(actor, setBy Rank) bool {
	return actor.AtLeast(RankModerator) && actor.AtLeast(setBy)
}

// CanRedact reports whether a moderator of rank actor may redact a message
// whose author has rank author: moderators and above redact their own rank's
// and lower ranks' messages, never a higher rank's.
func CanRedact(actor, author Rank) bool {
	return actor.AtLeast(RankModerator) && actor.AtLeast(author)
}
