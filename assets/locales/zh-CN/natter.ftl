# 闲聊 — 简体中文

app-name = 闲聊
app-tagline = 秒开的聊天,消息一条不丢。

## 登录与注册

auth-sign-in = 登录
auth-register = 注册账号
auth-switch-to-register = 第一次使用?注册账号
auth-switch-to-sign-in = 已有账号?去登录
auth-account = 账号、邮箱或手机号
auth-account-name = 账号
auth-password = 密码
auth-password-repeat = 再次输入密码
auth-nickname = 昵称(可选)
auth-email = 邮箱(可选)
auth-phone = 手机号(可选)
auth-server = 服务器地址
auth-working = 请稍候……
auth-passwords-differ = 两次输入的密码不一致。
auth-registered = 注册成功,现在可以登录了。

## 给用户看的错误

error-unreachable = 无法连接到服务器 { $server },请检查地址和网络。
error-untrusted = 服务器 { $server } 的证书不受本设备信任({ $detail }),未发送任何数据。请联系服务器管理员,或用 NATTER_CA_FILE 信任其证书。
error-bad-credentials = 账号或密码错误。
error-account-taken = 该账号、邮箱或手机号已被注册。
error-bad-request = 输入有误:{ $detail }
error-too-large = 内容太大,无法发送。
error-quota-exceeded = 你在此服务器上的文件已达上限,未发送。
error-rate-limited = 发送太频繁了,请稍后再试。
error-rate-limited-seconds = 尝试次数过多,请 { $seconds } 秒后再试。
error-rate-limited-minutes = 尝试次数过多,请 { $minutes } 分钟后再试。
error-unauthorized = 登录已失效,请重新登录。
error-forbidden = 你没有权限这样做。
error-not-found = 内容已不存在。
error-not-friends = 只能和好友聊天。
error-not-member = 你不是该群成员。
error-already-friends = 你们已经是好友了。
error-invalid-state = 该操作已处理过了。
error-recall-expired = 消息发出超过两分钟,无法撤回。
error-busy = 对方正在通话中。
error-server = 服务器出了点问题,请稍后再试。
error-local = 读写本地数据失败:{ $detail }
error-generic = 出错了:{ $detail }

## 连接状态

status-connecting = 正在连接……
status-online = 在线
status-offline = 已断开,{ $seconds } 秒后重试
status-retry-now = 立即重试
status-syncing = 正在同步……
status-peer-offline = 离线

## 主界面

nav-chats = 消息
nav-contacts = 通讯录
nav-groups = 群聊
nav-settings = 设置
search-placeholder = 搜索聊天记录
conversations-empty = 还没有会话。添加好友开始聊天吧。
conversation-pinned = 已置顶
conversation-muted = 免打扰
conversation-closed = 该会话已关闭。
conversation-pin = 置顶
conversation-unpin = 取消置顶
conversation-mute = 免打扰
conversation-unmute = 取消免打扰
unread-badge = { $count } 条未读消息
chat-select = 选择一个会话开始聊天。
chat-back = 返回
chat-load-older = 查看更早的消息
chat-today = 今天
chat-yesterday = 昨天
chat-date = { $year }年{ $month }月{ $day }日
chat-typing = { $name } 正在输入……
chat-you = 你
preview-by = { $name }：
chat-recalled = 对方撤回了一条消息。
chat-recalled-by-you = 你撤回了一条消息。
chat-edited = 已编辑
chat-reply = 回复
chat-recall = 撤回
chat-copy = 复制
chat-image = [图片]
chat-file = [文件] { $name }
chat-voice = [语音] { $seconds } 秒
chat-voice-short = [语音]
chat-attach-choose = 发送图片或文件
chat-attach-uploading = 正在上传…
chat-attach-too-large = 文件太大,无法发送(最大 50 MB)。
chat-attach-disk = 无法读写该文件:{ $reason }
voice-recording = 正在录音
voice-cancel = 取消
voice-stop = 停止
voice-no-microphone = 没有可用的麦克风：{ $error }。可在设置中改用测试音。
voice-cannot-play = 无法播放语音消息：{ $error }
voice-failed = 语音消息未能录制：{ $error }
device-no-audio = 没有找到麦克风或扬声器
device-audio = 麦克风或扬声器无法使用
device-no-camera = 没有找到摄像头
device-camera = 摄像头无法使用
device-codec = 声音或画面无法编码或解码
device-other = 声音或连接出了问题
chat-save-file = 保存
chat-file-saved = 已保存到 { $path }
dialog-missing-attach = 此系统没有可用的文件选择器。请把文件拖到窗口里，或复制图片后在聊天中按 Ctrl+V。
dialog-missing-avatar = 此系统没有可用的文件选择器。请在“设置”打开时把图片拖到窗口里。
chat-attach-folder = 不能发送文件夹，请拖入其中的文件。
incoming-no-chat = 请先打开一个聊天，再把文件拖到窗口里。
incoming-count = { $count } 个文件待发送
incoming-send = 发送
incoming-cancel = 取消
incoming-pasted-name = 粘贴
transfer-progress = { $done } / { $total }
transfer-progress-speed = { $done } / { $total } · { $speed }/秒
transfer-cancel = 取消
transfer-retry = 重试
transfer-saved = 已保存
transfer-interrupted = 传输中断。重试会从中断处继续。
open-file = 打开
open-folder = 在文件夹中显示
open-no-opener = 找不到用来打开文件的程序（{ $program }）。文件位于 { $path }
open-failed = 无法打开文件：{ $reason }。文件位于 { $path }
chat-view-picture = 查看图片
viewer-fitted = 适合窗口
viewer-fit = 适合窗口
viewer-zoom-in = 放大
viewer-zoom-out = 缩小
viewer-actual = 100%
viewer-save = 保存
viewer-close = 关闭
viewer-loading = 正在加载图片……
chat-call-completed-audio = 语音通话 · { $duration }
chat-call-completed-video = 视频通话 · { $duration }
chat-call-missed-audio = 未接语音通话
chat-call-missed-video = 未接视频通话
chat-call-no-answer = 对方无应答
chat-call-declined = 已拒绝
chat-call-cancelled = 已取消
chat-call-busy = 对方忙线
state-sending = 发送中……
state-sent = 已发送
state-read = 已读
state-failed = 发送失败
state-resend = 重新发送
composer-placeholder = 输入消息…
composer-send = 发送
composer-emoji = 表情
composer-attach = 发送文件
composer-voice = 录制语音消息

## 好友

friends-title = 好友
friends-add = 添加好友
friends-search-placeholder = 账号、邮箱或手机号
friends-search = 查找
friends-search-none = 没有找到该账号、邮箱或手机号。
friends-request-note = 验证消息(可选)
friends-send-request = 发送申请
friends-request-sent = 申请已发送。
friends-requests = 好友申请
friends-requests-empty = 没有待处理的申请。
friends-accept = 同意
friends-reject = 拒绝
friends-accepted = 已同意
friends-rejected = 已拒绝
friends-pending = 等待验证
friends-remove = 删除好友
friends-message = 发消息
friends-online = 在线
friends-offline = 离线

## 群聊

groups-title = 群聊
groups-create = 发起群聊
groups-name = 群名称
groups-pick-members = 选择要加入的好友
groups-members = { $count } 位成员
groups-invite = 邀请
groups-remove-member = 移出
groups-leave = 退出群聊
groups-disband = 解散群聊
groups-rename = 修改群名
groups-announcement = 群公告
groups-save = 保存
groups-role-owner = 群主
groups-role-admin = 管理员
groups-role-member = 成员
groups-disbanded = 群聊“{ $name }”已解散。
groups-joined = 你已加入群聊“{ $name }”。
groups-info = 群资料
groups-close = 关闭
groups-not-member = 你已不在这个群里。
groups-announcement-banner = 群公告:{ $text }
groups-announcement-placeholder = 写一条全体成员都能看到的公告
groups-no-announcement = 暂无群公告。
groups-member-you = { $name }(我)
groups-invite-title = 邀请好友
groups-invite-none = 你的好友都已在群里。
groups-disband-ask = 确定为所有人解散“{ $name }”吗?此操作无法撤销。
groups-disband-confirm = 解散
groups-cancel = 取消
groups-renamed = 群名称已修改。
groups-announcement-saved = 群公告已保存。
groups-invited = 邀请已发送。
groups-member-removed = 已将 { $name } 移出群聊。
groups-removed-you = 你已被移出“{ $name }”。
groups-left = 你已退出“{ $name }”。

## 个人资料与设置

settings-title = 设置
settings-profile = 个人资料
settings-nickname = 昵称
settings-avatar = 头像
settings-avatar-choose = 选择图片……
settings-avatar-pictures = 图片
settings-avatar-uploading = 正在上传图片……
settings-avatar-unreadable = 无法读取这个文件(仅支持 PNG 或 JPEG,最大 20 MB)。
settings-save = 保存
settings-language = 语言
settings-theme = 主题
settings-theme-light = 浅色
settings-theme-dark = 深色
settings-font-size = 字体大小
settings-server = 服务器地址
settings-notifications = 通知
settings-notifications-on = 新消息时显示通知
settings-calls = 通话
settings-synthetic-media = 使用测试音和测试图案代替设备
settings-microphone = 麦克风
settings-speaker = 扬声器
settings-camera = 摄像头
settings-device-default = 系统默认
settings-devices-none = 本机未找到此类设备。
settings-about = 闲聊 { $app } · 服务器 { $relay }
settings-about-relay-unknown = 尚未连接
settings-sign-out = 退出登录
settings-saved = 已保存。

## 通知

notify-new-message = 来自 { $name } 的新消息
notify-new-request = { $name } 请求添加你为好友

## 通话

call-audio = 语音通话
call-video = 视频通话
call-incoming = { $name } 邀请你通话……
call-outgoing = 正在呼叫 { $name }……
call-accept = 接听
call-decline = 拒绝
call-hang-up = 挂断
call-mute = 静音
call-unmute = 取消静音
call-camera-on = 打开摄像头
call-camera-off = 关闭摄像头
call-share-screen = 共享屏幕
call-stop-sharing = 停止共享
call-share-pick = 共享哪个屏幕或窗口？
call-share-cancel = 取消
call-no-device = 未找到{ $device }。
call-cancel = 取消
call-ringing = 对方响铃中……
call-connecting = 正在连接……
call-waiting-video = 等待视频画面……
call-video-paused = 对方已关闭摄像头
call-self-view-off = 你的摄像头已关闭
call-stats = 延迟 { $rtt } 毫秒 · 抖动 { $jitter } 毫秒 · 丢包 { $loss }% · ↓ { $down } kbps · ↑ { $up } kbps(链路 { $path } kbps)
call-stats-media = { $codecs } · 发送 { $sent } · 接收 { $received }
call-stats-media-group = { $codecs } · 发送 { $sent }
call-stats-participant = 丢包 { $loss }% · 抖动 { $jitter } 毫秒 · ↓ { $down } kbps · { $picture }
call-problem = ⚠ 设备无法使用:{ $detail }
call-ended = 通话结束 · { $duration }
call-ended-declined = 已拒绝
call-ended-no-answer = 对方无应答
call-ended-missed = 未接来电
call-ended-cancelled = 已取消
call-ended-busy = 对方忙线
call-ended-elsewhere = 已在其他设备接听
call-ended-lost = 连接已断开
call-ended-failed = 无法发起通话
group-call-start-audio = 发起群语音通话
group-call-start-video = 发起群视频通话
group-call-join = 加入通话({ $count } 人)
group-call-join-ringing = 群通话来电 · 加入({ $count } 人)
group-call-in-call = 群通话中 · { $count } 人参与
group-call-leave = 退出
group-call-you = 我
group-call-muted = 已静音
group-call-failed = 无法建立群通话。

# Acting on messages
chat-recalled-by = { $name }撤回了一条消息。
chat-write-again = 重新编辑
chat-forwarded-from = 转发自 { $name }
chat-quote-unavailable = 原消息不可用。
chat-new-messages = 以下为新消息
chat-jump-latest = 回到最新
chat-jump-latest-count = { $count } 条新消息
chat-forward = 转发
chat-edit = 编辑
chat-delete-for-me = 删除(仅自己)
chat-menu-close = 关闭
chat-react = 回应
chat-more = 更多
composer-save = 保存
composer-replying = 回复 { $name }:{ $text }
composer-editing = 正在编辑消息 — 按 Esc 取消
composer-cancel = 取消
mention-all = 群里所有人
mention-you = [有人@我]
forward-title = 转发给…
forward-search = 搜索会话
forward-send = 发送({ $count })
forward-cancel = 取消
forward-done = 已转发到 { $count } 个会话。
search-none = 没有结果。
search-from = { $conversation } · { $name } · { $time }
error-edit-expired = 这条消息已过了可编辑的时间。
error-bad-mention = 只能 @ 群成员;只有群主和管理员可以 @所有人。
friends-is-you = 这是你自己。
friends-already = 已经是好友。
groups-name-required = 请先填写群名称。
chat-read-by = { $count ->
    [0] 未读
   *[other] { $count } 人已读
}
chat-read-by-nobody = 还没有人读过。
chat-readers = 已读:{ $names }
