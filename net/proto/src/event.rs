//! Per-account events: everything that is not a chat message but must reach every
//! device of an account, live or at the next catch-up.
//!
//! Each account has its own event log numbered 1, 2, 3, ... without gaps. A client
//! remembers the highest seq it has applied and presents it at (re)connect.

use serde::{Deserialize, Serialize};

use crate::Millis;
use crate::model::{
    ConversationId, Friend, FriendRequest, Group, Member, Role, UserId, UserSummary,
};

/// One entry of an account's event log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Event {
    /// Position in this account's log.
    pub seq: u64,
    /// When the relay recorded it.
    pub ts: Millis,
    /// What happened.
    #[serde(flatten)]
    pub body: EventBody,
}

fn one() -> u64 {
    1
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventBody {
    /// Someone asked this account to be friends.
    FriendRequestReceived {
        /// The request.
        request: FriendRequest,
    },
    /// This account (from some device) asked someone to be friends.
    FriendRequestSent {
        /// The request.
        request: FriendRequest,
    },
    /// A request this account sent or received was accepted: the two are friends.
    FriendAdded {
        /// The request that was accepted.
        request_id: u64,
        /// The new friend and the 1:1 conversation.
        friend: Friend,
    },
    /// A request this account sent or received was rejected.
    FriendRequestRejected {
        /// The request.
        request_id: u64,
        /// Who rejected it.
        by: UserId,
    },
    /// The friendship with `user` ended (either side deleted it).
    FriendRemoved {
        /// The former friend.
        user: UserId,
        /// Their 1:1 conversation, now closed for sending.
        conversation: ConversationId,
    },
    /// This account became a member of a group (created it, or was invited).
    GroupJoined {
        /// The group with its full member list.
        group: Group,
        /// Who created the group or invited this account.
        by: UserId,
        /// The first seq this account may read (messages before it predate
        /// joining).
        #[serde(default = "one")]
        first_seq: u64,
    },
    /// New members joined a group this account is in.
    GroupMembersAdded {
        /// The group.
        group: ConversationId,
        /// The newcomers.
        members: Vec<Member>,
        /// Who invited them.
        by: UserId,
    },
    /// A member left on their own.
    GroupMemberLeft {
        /// The group.
        group: ConversationId,
        /// Who left.
        user: UserId,
        /// The owner after the departure (ownership passes on when the owner leaves).
        owner: UserId,
    },
    /// A member was removed. Sent to the remaining members and to the removed one.
    GroupMemberRemoved {
        /// The group.
        group: ConversationId,
        /// Who was removed.
        user: UserId,
        /// Who removed them.
        by: UserId,
    },
    /// Name or announcement changed.
    GroupUpdated {
        /// The group.
        group: ConversationId,
        /// The name now.
        name: String,
        /// The announcement now.
        announcement: String,
        /// Who changed it.
        by: UserId,
    },
    /// A member's role changed.
    GroupRoleChanged {
        /// The group.
        group: ConversationId,
        /// Whose role.
        user: UserId,
        /// The new role.
        role: Role,
    },
    /// The owner disbanded the group; it no longer exists.
    GroupDisbanded {
        /// The group.
        group: ConversationId,
        /// The owner who disbanded it.
        by: UserId,
    },
    /// This account, a friend or a fellow group member changed nickname or avatar.
    ProfileUpdated {
        /// The new public profile.
        user: UserSummary,
    },
}
