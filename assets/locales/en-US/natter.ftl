# Natter — English (United States)

app-name = Natter
app-tagline = Chat that starts instantly and never loses a message.

## Sign in and register

auth-sign-in = Sign in
auth-register = Create account
auth-switch-to-register = New here? Create an account
auth-switch-to-sign-in = Already have an account? Sign in
auth-account = Account name, e-mail or phone
auth-account-name = Account name
auth-password = Password
auth-password-repeat = Repeat password
auth-nickname = Nickname (optional)
auth-email = E-mail (optional)
auth-phone = Phone (optional)
auth-server = Relay address
auth-working = Please wait…
auth-passwords-differ = The two passwords are not the same.
auth-registered = Account created. You can sign in now.

## Errors shown to people

error-unreachable = Cannot reach the relay at { $server }. Check the address and your connection.
error-untrusted = The relay at { $server } has a certificate this device does not trust ({ $detail }). Nothing was sent. Ask the relay's operator, or trust its certificate with NATTER_CA_FILE.
error-bad-credentials = Wrong account name or password.
error-account-taken = That account name, e-mail or phone is already registered.
error-bad-request = That did not look right: { $detail }
error-too-large = That is too large to send.
error-quota-exceeded = Your files on this server have reached their limit; nothing was sent.
error-rate-limited = You are sending too fast. Wait a moment and try again.
error-rate-limited-seconds = Too many attempts. Try again in { $seconds } s.
error-rate-limited-minutes = Too many attempts. Try again in { $minutes } min.
error-unauthorized = Your session has ended. Please sign in again.
error-forbidden = You are not allowed to do that.
error-not-found = That no longer exists.
error-not-friends = You can only chat with friends.
error-not-member = You are not a member of this group.
error-already-friends = You are already friends.
error-invalid-state = That was already taken care of.
error-recall-expired = Messages can only be recalled within two minutes.
error-busy = They are in another call.
error-server = The relay had a problem. Try again in a moment.
error-local = Could not read or write local data: { $detail }
error-generic = Something went wrong: { $detail }

## Connection status

status-connecting = Connecting…
status-online = Online
status-offline = Offline — retrying in { $seconds } s
status-retry-now = Retry now
status-syncing = Updating…
status-peer-offline = Offline

## Main window

nav-chats = Chats
nav-contacts = Contacts
nav-groups = Groups
nav-settings = Settings
search-placeholder = Search messages
conversations-empty = No conversations yet. Add a friend to start chatting.
conversation-pinned = Pinned
conversation-muted = Muted
conversation-closed = This conversation is closed.
conversation-pin = Pin
conversation-unpin = Unpin
conversation-mute = Mute
conversation-unmute = Unmute
unread-badge = { $count ->
    [one] 1 unread message
   *[other] { $count } unread messages
}
chat-select = Select a conversation to start chatting.
chat-back = Back
chat-load-older = Load older messages
chat-today = Today
chat-yesterday = Yesterday
chat-date = { $month ->
        [1] January
        [2] February
        [3] March
        [4] April
        [5] May
        [6] June
        [7] July
        [8] August
        [9] September
        [10] October
        [11] November
       *[12] December
    } { $day }, { $year }
chat-typing = { $name } is typing…
chat-you = You
preview-by = { $name }:
chat-recalled = This message was recalled.
chat-recalled-by-you = You recalled a message.
chat-edited = edited
chat-reply = Reply
chat-recall = Recall
chat-copy = Copy
chat-image = [Image]
chat-file = [File] { $name }
chat-voice = [Voice] { $seconds } s
chat-voice-short = [Voice]
chat-attach-choose = Send a picture or file
chat-attach-uploading = Uploading…
chat-attach-too-large = That file is too large to send (50 MB at most).
chat-attach-disk = Could not read or write the file: { $reason }
voice-recording = Recording
voice-cancel = Cancel
voice-stop = Stop
voice-no-microphone = No microphone to record with: { $error }. A test tone can stand in for one (Settings).
voice-cannot-play = Cannot play the voice message: { $error }
voice-failed = The voice message was not recorded: { $error }
device-no-audio = no microphone or speaker was found
device-audio = the microphone or speaker could not be used
device-no-camera = no camera was found
device-camera = the camera could not be used
device-codec = the sound or picture could not be encoded or decoded
device-other = something went wrong with the sound or the connection
chat-save-file = Save
chat-file-saved = Saved to { $path }
dialog-missing-attach = No file chooser is available on this system. Drag a file onto the window, or copy a picture and press Ctrl+V in the chat.
dialog-missing-avatar = No file chooser is available on this system. Drag a picture onto the window while Settings is open.
chat-attach-folder = A folder cannot be sent; drop the files in it instead.
incoming-no-chat = Open a chat first, then drop the file onto the window.
incoming-count = { $count ->
        [one] One file to send
       *[other] { $count } files to send
    }
incoming-send = Send
incoming-cancel = Cancel
incoming-pasted-name = pasted
transfer-progress = { $done } of { $total }
transfer-progress-speed = { $done } of { $total } · { $speed }/s
transfer-cancel = Cancel
transfer-retry = Retry
transfer-saved = Saved
transfer-interrupted = Stopped before the end. Retry goes on from there.
transfer-waiting = Connection lost. It goes on by itself when the connection is back.
open-file = Open
open-folder = Show in folder
open-no-opener = No program to open files with was found ({ $program }). The file is at { $path }
open-failed = The file could not be opened: { $reason }. It is at { $path }
chat-fetch-picture = Download picture
chat-view-picture = View picture
viewer-fitted = Fitted
viewer-fit = Fit
viewer-zoom-in = Zoom in
viewer-zoom-out = Zoom out
viewer-actual = 100%
viewer-save = Save
viewer-close = Close
viewer-loading = Loading the picture…
chat-call-completed-audio = Voice call · { $duration }
chat-call-completed-video = Video call · { $duration }
chat-call-missed-audio = Missed voice call
chat-call-missed-video = Missed video call
chat-call-no-answer = No answer
chat-call-declined = Declined
chat-call-cancelled = Cancelled
chat-call-busy = Busy
state-sending = Sending…
state-sent = Sent
state-read = Read
state-failed = Not sent
state-resend = Resend
composer-placeholder = Write a message…
composer-send = Send
composer-emoji = Emoji
composer-attach = Attach a file
composer-voice = Record a voice message

## Friends

friends-title = Friends
friends-add = Add friend
friends-search-placeholder = Account name, e-mail or phone
friends-search = Find
friends-search-none = Nobody found with that name, e-mail or phone.
friends-request-note = Message (optional)
friends-send-request = Send request
friends-request-sent = Request sent.
friends-requests = Friend requests
friends-requests-empty = No pending requests.
friends-accept = Accept
friends-reject = Decline
friends-accepted = Accepted
friends-rejected = Declined
friends-pending = Waiting for an answer
friends-remove = Remove friend
friends-message = Message
friends-online = online
friends-offline = offline

## Groups

groups-title = Groups
groups-create = New group
groups-name = Group name
groups-pick-members = Choose friends to add
groups-members = { $count ->
    [one] 1 member
   *[other] { $count } members
}
groups-invite = Invite
groups-remove-member = Remove
groups-leave = Leave group
groups-disband = Disband group
groups-rename = Rename
groups-announcement = Announcement
groups-save = Save
groups-role-owner = Owner
groups-role-admin = Admin
groups-role-member = Member
groups-disbanded = { $name } was disbanded.
groups-joined = You joined { $name }.
groups-info = Group info
groups-close = Close
groups-not-member = You are no longer in this group.
groups-announcement-banner = Announcement: { $text }
groups-announcement-placeholder = Something every member should see
groups-no-announcement = No announcement yet.
groups-member-you = { $name } (you)
groups-invite-title = Invite friends
groups-invite-none = All your friends are already in this group.
groups-disband-ask = Disband { $name } for everyone? This cannot be undone.
groups-disband-confirm = Disband
groups-cancel = Cancel
groups-renamed = Group renamed.
groups-announcement-saved = Announcement saved.
groups-invited = Invitation sent.
groups-member-removed = { $name } was removed from the group.
groups-removed-you = You were removed from { $name }.
groups-left = You left { $name }.

## Profile and settings

settings-title = Settings
settings-profile = Profile
settings-nickname = Nickname
settings-avatar = Avatar
settings-avatar-choose = Choose picture…
settings-avatar-pictures = Pictures
settings-avatar-uploading = Uploading picture…
settings-avatar-unreadable = That file is not a picture Natter can read (PNG or JPEG, up to 20 MB).
settings-save = Save
settings-language = Language
settings-theme = Theme
settings-theme-light = Light
settings-theme-dark = Dark
settings-font-size = Text size
settings-server = Relay address
settings-notifications = Notifications
settings-notifications-on = Show notifications for new messages
settings-calls = Calls
settings-synthetic-media = Use a test tone and pattern instead of devices
settings-microphone = Microphone
settings-speaker = Speaker
settings-camera = Camera
settings-device-default = System default
settings-devices-none = None found on this computer.
settings-about = Natter { $app } · relay { $relay }
settings-about-relay-unknown = not reached yet
settings-sign-out = Sign out
settings-saved = Saved.

## Notifications

notify-new-message = New message from { $name }
notify-new-request = { $name } wants to be your friend

## Calls

call-audio = Voice call
call-video = Video call
call-incoming = { $name } is calling…
call-outgoing = Calling { $name }…
call-accept = Accept
call-decline = Decline
call-hang-up = Hang up
call-mute = Mute
call-unmute = Unmute
call-camera-on = Camera on
call-camera-off = Camera off
call-share-screen = Share screen
call-stop-sharing = Stop sharing
call-share-pick = Share which screen or window?
call-share-cancel = Cancel
call-no-device = No { $device } found.
call-cancel = Cancel
call-ringing = Ringing…
call-connecting = Connecting…
call-waiting-video = Waiting for video…
call-video-paused = Their camera is off
call-self-view-off = Your camera is off
call-stats = RTT { $rtt } ms · jitter { $jitter } ms · loss { $loss }% · ↓ { $down } kbps · ↑ { $up } kbps (path { $path } kbps)
call-stats-media = { $codecs } · sending { $sent } · receiving { $received }
call-stats-media-group = { $codecs } · sending { $sent }
call-stats-participant = loss { $loss }% · jitter { $jitter } ms · ↓ { $down } kbps · { $picture }
call-problem = ⚠ A device could not be used: { $detail }
call-ended = Call ended · { $duration }
call-ended-declined = Declined
call-ended-no-answer = No answer
call-ended-missed = Missed call
call-ended-cancelled = Cancelled
call-ended-busy = Busy
call-ended-elsewhere = Answered on another device
call-ended-lost = Connection lost
call-ended-failed = The call could not be placed
group-call-start-audio = Start a group voice call
group-call-start-video = Start a group video call
group-call-join = Join call ({ $count })
group-call-who = In the call: { $names }
group-call-join-short = Join ({ $count })
group-call-join-ringing = Incoming group call · Join ({ $count })
group-call-incoming = { $name } is calling in { $group }…
group-call-join-now = Join
group-call-in-call = In the group call · { $count } taking part
group-call-leave = Leave
group-call-you = You
group-call-muted = muted
group-call-failed = The group call could not be set up.

# Acting on messages
chat-recalled-by = { $name } recalled a message.
chat-write-again = Re-edit
chat-forwarded-from = Forwarded from { $name }
chat-quote-unavailable = The original message is not available.
chat-new-messages = New messages
chat-jump-latest = Jump to latest
chat-jump-latest-count = { $count } new
chat-forward = Forward
chat-edit = Edit
chat-delete-for-me = Delete for me
chat-menu-close = Close
chat-react = React
chat-more = More
composer-save = Save
composer-replying = Replying to { $name }: { $text }
composer-editing = Editing your message — Esc cancels
composer-cancel = Cancel
mention-all = everyone in this group
mention-you = [@you]
forward-title = Forward to…
forward-search = Search conversations
forward-send = Send ({ $count })
forward-cancel = Cancel
forward-done = { $count ->
    [one] Forwarded to 1 conversation.
   *[other] Forwarded to { $count } conversations.
}
search-none = No results.
search-from = { $conversation } · { $name } · { $time }
error-edit-expired = The time for editing that message has passed.
error-bad-mention = Only members of the group can be mentioned, and only its owner and admins can mention everyone.
friends-is-you = That is you.
friends-already = Already friends.
groups-name-required = Give the group a name first.
chat-read-by = { $count ->
    [0] Not read yet
   *[other] Read by { $count }
}
chat-read-by-nobody = Nobody has read it yet.
chat-readers = Read by: { $names }
emoji-search = Search emoji
emoji-recent = Recently used
emoji-smileys = Smileys & emotion
emoji-people = People & body
emoji-nature = Animals & nature
emoji-food = Food & drink
emoji-travel = Travel & places
emoji-activities = Activities
emoji-objects = Objects
emoji-symbols = Symbols
emoji-flags = Flags
emoji-no-recent = The emoji you pick show up here.
emoji-none-found = No emoji found. Search in English, e.g. "smile" or "heart".
boot-failed = Natter could not open its data: { $detail }
