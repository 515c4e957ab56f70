//! Groups: create, invite, leave, remove, disband, rename, announcement, roles.
//!
//! Every change reads the group, decides, and writes it back guarded by the
//! version it read; when another change got there first the whole decision is
//! made again on fresh data.

use std::collections::HashMap;

use natter_proto::ErrorCode;
use natter_proto::event::EventBody;
use natter_proto::model::{ConversationId, Group, Member, Role, UserId, UserSummary};
use natter_proto::rest::{CreateGroup, UpdateGroup};

use super::{Service, clean_name, clean_note};
use crate::error::{Error, Result};
use crate::service::Authed;
use crate::storage::{ConversationKind, ConversationRecord, GroupChange, MemberRecord};
use crate::util::now_ms;

/// How many times a group change is retried after losing a race.
const RETRIES: usize = 8;

struct Loaded {
    conv: ConversationRecord,
    members: Vec<MemberRecord>,
    owner: UserId,
}

impl Loaded {
    fn member(&self, user: UserId) -> Option<&MemberRecord> {
        self.members.iter().find(|m| m.user == user)
    }

    fn role_of(&self, user: UserId) -> Result<Role> {
        self.member(user)
            .map(|m| m.role)
            .ok_or_else(|| Error::client(ErrorCode::NotMember, "not a member of this group"))
    }

    fn user_ids(&self) -> Vec<UserId> {
        self.members.iter().map(|m| m.user).collect()
    }

    fn next(&self) -> ConversationRecord {
        ConversationRecord {
            version: self.conv.version + 1,
            ..self.conv.clone()
        }
    }

    fn change(&self, conv: ConversationRecord) -> GroupChange {
        GroupChange {
            conversation: conv,
            expected_version: Some(self.conv.version),
            upsert: Vec::new(),
            remove: Vec::new(),
            delete: false,
            events: Vec::new(),
        }
    }
}

fn to_all(users: &[UserId], body: EventBody) -> Vec<(UserId, EventBody)> {
    users.iter().map(|u| (*u, body.clone())).collect()
}

impl Service {
    async fn load_group(&self, id: ConversationId) -> Result<Loaded> {
        let conv = self
            .storage
            .conversation(id)
            .await?
            .ok_or_else(|| Error::not_found("no such group"))?;
        let ConversationKind::Group { owner, .. } = &conv.kind else {
            return Err(Error::not_found("no such group"));
        };
        let owner = *owner;
        let members = self.storage.members(id).await?;
        Ok(Loaded {
            conv,
            members,
            owner,
        })
    }

    async fn group_wire(
        &self,
        conv: &ConversationRecord,
        members: &[MemberRecord],
    ) -> Result<Group> {
        let users: HashMap<UserId, UserSummary> = self
            .storage
            .users(members.iter().map(|m| m.user).collect())
            .await?
            .into_iter()
            .map(|u| (u.id, u.summary()))
            .collect();
        Ok(group_from(conv, members, &users))
    }

    /// Reads the group, lets `decide` build the change, writes it; retries when a
    /// concurrent change won.
    async fn change_group_with<F>(&self, id: ConversationId, mut decide: F) -> Result<()>
    where
        F: FnMut(&Loaded, &HashMap<UserId, UserSummary>) -> Result<GroupChange>,
    {
        for _ in 0..RETRIES {
            let loaded = self.load_group(id).await?;
            let users = self.user_map(&loaded.members).await?;
            let change = decide(&loaded, &users)?;
            match self.storage.change_group(change).await {
                Ok(appends) => {
                    self.deliver_events(&appends);
                    return Ok(());
                }
                Err(Error::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(Error::Internal("group changed too often to update".into()))
    }

    async fn user_map(&self, members: &[MemberRecord]) -> Result<HashMap<UserId, UserSummary>> {
        Ok(self
            .storage
            .users(members.iter().map(|m| m.user).collect())
            .await?
            .into_iter()
            .map(|u| (u.id, u.summary()))
            .collect())
    }

    async fn require_friends(&self, me: UserId, users: &[UserId]) -> Result<()> {
        for u in users {
            if self.storage.friendship(me, *u).await?.is_none() {
                return Err(Error::client(
                    ErrorCode::NotFriends,
                    format!("account {u} is not your friend"),
                ));
            }
        }
        Ok(())
    }

    /// Creates a group of the caller and some of their friends.
    pub async fn create_group(&self, authed: &Authed, req: CreateGroup) -> Result<Group> {
        let me = authed.id();
        let name = clean_name(&req.name, "group name")?;
        let mut invitees = req.members;
        invitees.sort();
        invitees.dedup();
        invitees.retain(|u| *u != me);
        if invitees.len() + 1 > self.config.limits.max_group_members as usize {
            return Err(Error::bad_request("too many members"));
        }
        self.require_friends(me, &invitees).await?;
        let ts = now_ms();
        let conv = ConversationRecord {
            id: ConversationId(self.ids.next()),
            kind: ConversationKind::Group {
                name,
                announcement: String::new(),
                owner: me,
            },
            version: 1,
            created_ts: ts,
        };
        let mut members = vec![MemberRecord {
            user: me,
            role: Role::Owner,
            joined_ts: ts,
            first_seq: 1,
        }];
        members.extend(invitees.iter().map(|u| MemberRecord {
            user: *u,
            role: Role::Member,
            joined_ts: ts,
            first_seq: 1,
        }));
        let group = self.group_wire(&conv, &members).await?;
        if group.members.len() != members.len() {
            return Err(Error::not_found("an invited account no longer exists"));
        }
        let ids: Vec<UserId> = members.iter().map(|m| m.user).collect();
        let change = GroupChange {
            conversation: conv,
            expected_version: None,
            upsert: members,
            remove: Vec::new(),
            delete: false,
            events: to_all(
                &ids,
                EventBody::GroupJoined {
                    group: group.clone(),
                    by: me,
                    first_seq: 1,
                },
            ),
        };
        let appends = self.storage.change_group(change).await?;
        self.deliver_events(&appends);
        Ok(group)
    }

    /// A group the caller is in, with its members.
    pub async fn group(&self, authed: &Authed, id: ConversationId) -> Result<Group> {
        let loaded = self.load_group(id).await?;
        loaded.role_of(authed.id())?;
        self.group_wire(&loaded.conv, &loaded.members).await
    }

    /// Every group the caller is in.
    pub async fn groups(&self, authed: &Authed) -> Result<Vec<Group>> {
        let mut out = Vec::new();
        for (conv, _, _) in self.storage.conversations_of(authed.id()).await? {
            if matches!(conv.kind, ConversationKind::Group { .. }) {
                let members = self.storage.members(conv.id).await?;
                out.push(self.group_wire(&conv, &members).await?);
            }
        }
        Ok(out)
    }

    /// Renames the group or sets its announcement (owner and admins).
    pub async fn update_group(
        &self,
        authed: &Authed,
        id: ConversationId,
        req: UpdateGroup,
    ) -> Result<Group> {
        let me = authed.id();
        let name = req
            .name
            .as_deref()
            .map(|n| clean_name(n, "group name"))
            .transpose()?;
        let announcement = req
            .announcement
            .as_deref()
            .map(|a| clean_note(a, "announcement"))
            .transpose()?;
        self.change_group_with(id, |g, _| {
            if g.role_of(me)? < Role::Admin {
                return Err(Error::forbidden(
                    "only the owner or an admin may change the group",
                ));
            }
            let mut conv = g.next();
            let ConversationKind::Group {
                name: n,
                announcement: a,
                ..
            } = &mut conv.kind
            else {
                return Err(Error::not_found("no such group"));
            };
            if let Some(name) = &name {
                *n = name.clone();
            }
            if let Some(ann) = &announcement {
                *a = ann.clone();
            }
            let body = EventBody::GroupUpdated {
                group: id,
                name: n.clone(),
                announcement: a.clone(),
                by: me,
            };
            let mut change = g.change(conv);
            change.events = to_all(&g.user_ids(), body);
            Ok(change)
        })
        .await?;
        self.group(authed, id).await
    }

    /// Adds friends of the caller to a group the caller is in.
    pub async fn invite(
        &self,
        authed: &Authed,
        id: ConversationId,
        users: Vec<UserId>,
    ) -> Result<Group> {
        let me = authed.id();
        let mut users = users;
        users.sort();
        users.dedup();
        if users.is_empty() {
            return Err(Error::bad_request("nobody to invite"));
        }
        self.require_friends(me, &users).await?;
        let newcomers = self.storage.users(users.clone()).await?;
        if newcomers.len() != users.len() {
            return Err(Error::not_found("an invited account does not exist"));
        }
        let last_seq = self
            .storage
            .messages(id, 0, u64::MAX, 1, true)
            .await?
            .first()
            .map(|m| m.seq)
            .unwrap_or(0);
        let max = self.config.limits.max_group_members as usize;
        self.change_group_with(id, |g, known| {
            g.role_of(me)?;
            let fresh: Vec<UserId> = users
                .iter()
                .copied()
                .filter(|u| g.member(*u).is_none())
                .collect();
            if fresh.is_empty() {
                return Err(Error::client(ErrorCode::InvalidState, "already members"));
            }
            if g.members.len() + fresh.len() > max {
                return Err(Error::bad_request(
                    "the group would exceed its member limit",
                ));
            }
            let ts = now_ms();
            let added: Vec<MemberRecord> = fresh
                .iter()
                .map(|u| MemberRecord {
                    user: *u,
                    role: Role::Member,
                    joined_ts: ts,
                    first_seq: last_seq + 1,
                })
                .collect();
            let mut all_members = g.members.clone();
            all_members.extend(added.iter().cloned());
            let mut users_map = known.clone();
            for u in &newcomers {
                users_map.insert(u.id, u.summary());
            }
            let conv = g.next();
            let group = group_from(&conv, &all_members, &users_map);
            let added_wire: Vec<Member> = group
                .members
                .iter()
                .filter(|m| fresh.contains(&m.user.id))
                .cloned()
                .collect();
            let mut change = g.change(conv);
            change.upsert = added;
            change.events = to_all(
                &g.user_ids(),
                EventBody::GroupMembersAdded {
                    group: id,
                    members: added_wire,
                    by: me,
                },
            );
            change.events.extend(to_all(
                &fresh,
                EventBody::GroupJoined {
                    group,
                    by: me,
                    first_seq: last_seq + 1,
                },
            ));
            Ok(change)
        })
        .await?;
        self.group_members_changed(id).await;
        self.group(authed, id).await
    }

    /// Removes a member: the owner may remove anyone, admins ordinary members.
    pub async fn remove_member(
        &self,
        authed: &Authed,
        id: ConversationId,
        user: UserId,
    ) -> Result<()> {
        let me = authed.id();
        if user == me {
            return Err(Error::bad_request("use leave to leave a group"));
        }
        self.change_group_with(id, |g, _| {
            let my_role = g.role_of(me)?;
            let their_role = g
                .member(user)
                .map(|m| m.role)
                .ok_or_else(|| Error::not_found("not a member of this group"))?;
            if my_role < Role::Admin || their_role >= my_role {
                return Err(Error::forbidden("you may not remove this member"));
            }
            let mut change = g.change(g.next());
            change.remove = vec![user];
            change.events = to_all(
                &g.user_ids(),
                EventBody::GroupMemberRemoved {
                    group: id,
                    user,
                    by: me,
                },
            );
            Ok(change)
        })
        .await
    }

    /// Leaves a group. An owner's leaving passes ownership to the longest-standing
    /// admin, or else member; the last member's leaving deletes the group.
    pub async fn leave_group(&self, authed: &Authed, id: ConversationId) -> Result<()> {
        let me = authed.id();
        self.change_group_with(id, |g, _| {
            g.role_of(me)?;
            let mut rest: Vec<&MemberRecord> = g.members.iter().filter(|m| m.user != me).collect();
            let mut conv = g.next();
            if rest.is_empty() {
                let mut change = g.change(conv);
                change.delete = true;
                change.events = vec![(me, EventBody::GroupDisbanded { group: id, by: me })];
                return Ok(change);
            }
            let mut upsert = Vec::new();
            let mut owner = g.owner;
            if g.owner == me {
                rest.sort_by_key(|m| (std::cmp::Reverse(m.role), m.joined_ts, m.user));
                let heir = rest[0];
                owner = heir.user;
                upsert.push(MemberRecord {
                    role: Role::Owner,
                    ..heir.clone()
                });
                if let ConversationKind::Group { owner: o, .. } = &mut conv.kind {
                    *o = heir.user;
                }
            }
            let mut change = g.change(conv);
            change.upsert = upsert;
            change.remove = vec![me];
            change.events = to_all(
                &g.user_ids(),
                EventBody::GroupMemberLeft {
                    group: id,
                    user: me,
                    owner,
                },
            );
            Ok(change)
        })
        .await
    }

    /// Deletes a group with its history (owner only).
    pub async fn disband(&self, authed: &Authed, id: ConversationId) -> Result<()> {
        let me = authed.id();
        self.change_group_with(id, |g, _| {
            if g.role_of(me)? != Role::Owner {
                return Err(Error::forbidden("only the owner may disband the group"));
            }
            let mut change = g.change(g.next());
            change.delete = true;
            change.events = to_all(
                &g.user_ids(),
                EventBody::GroupDisbanded { group: id, by: me },
            );
            Ok(change)
        })
        .await
    }

    /// Sets a member's role (owner only); giving `owner` hands ownership over and
    /// makes the old owner an admin.
    pub async fn set_role(
        &self,
        authed: &Authed,
        id: ConversationId,
        user: UserId,
        role: Role,
    ) -> Result<Group> {
        let me = authed.id();
        if user == me {
            return Err(Error::bad_request("cannot change your own role"));
        }
        self.change_group_with(id, |g, _| {
            if g.role_of(me)? != Role::Owner {
                return Err(Error::forbidden("only the owner may change roles"));
            }
            let target = g
                .member(user)
                .ok_or_else(|| Error::not_found("not a member of this group"))?;
            let mut conv = g.next();
            let mut upsert = vec![MemberRecord {
                role,
                ..target.clone()
            }];
            let mut events = to_all(
                &g.user_ids(),
                EventBody::GroupRoleChanged {
                    group: id,
                    user,
                    role,
                },
            );
            if role == Role::Owner {
                if let Some(mine) = g.member(me) {
                    upsert.push(MemberRecord {
                        role: Role::Admin,
                        ..mine.clone()
                    });
                }
                if let ConversationKind::Group { owner, .. } = &mut conv.kind {
                    *owner = user;
                }
                events.extend(to_all(
                    &g.user_ids(),
                    EventBody::GroupRoleChanged {
                        group: id,
                        user: me,
                        role: Role::Admin,
                    },
                ));
            }
            let mut change = g.change(conv);
            change.upsert = upsert;
            change.events = events;
            Ok(change)
        })
        .await?;
        self.group(authed, id).await
    }
}

fn group_from(
    conv: &ConversationRecord,
    members: &[MemberRecord],
    users: &HashMap<UserId, UserSummary>,
) -> Group {
    let (name, announcement, owner) = match &conv.kind {
        ConversationKind::Group {
            name,
            announcement,
            owner,
        } => (name.clone(), announcement.clone(), *owner),
        ConversationKind::Direct { a, .. } => (String::new(), String::new(), *a),
    };
    let mut list: Vec<Member> = members
        .iter()
        .filter_map(|m| {
            users.get(&m.user).map(|u| Member {
                user: u.clone(),
                role: m.role,
                joined_ts: m.joined_ts,
            })
        })
        .collect();
    list.sort_by_key(|m| (std::cmp::Reverse(m.role), m.joined_ts, m.user.id));
    Group {
        id: conv.id,
        name,
        announcement,
        owner,
        created_ts: conv.created_ts,
        members: list,
    }
}
