"""Every user-visible string goes through ``t``: one catalogue now, more languages later.

Whole sentences live in the catalogue with named placeholders, never glued from pieces, so a
translation can reorder them.
"""

from __future__ import annotations

CATALOGUE_EN: dict[str, str] = {
    "app.name": "Messenger",
    "common.close": "Close",
    "auth.username": "Username",
    "auth.password": "Password",
    "auth.display_name": "Your name",
    "auth.sign_in": "Sign in",
    "auth.sign_up": "Create account",
    "auth.sign_in_title": "Sign in to Messenger",
    "auth.sign_up_title": "Create your Messenger account",
    "auth.have_account": "Already have an account? Sign in",
    "auth.need_account": "New here? Create an account",
    "auth.sign_out": "Sign out",
    "auth.username_hint": "3-32 letters, digits, '.' or '_'",
    "auth.password_hint": "At least 8 characters",
    "chats.title": "Chats",
    "chats.new_chat": "New chat",
    "chats.search_people": "Search people by name or username",
    "chats.no_results": "No one found",
    "chats.empty": "No chats yet. Start one with the New chat button.",
    "chats.unread_one": "{count} unread message",
    "chats.unread_other": "{count} unread messages",
    "chats.you_prefix": "You: {preview}",
    "chats.pick_one": "Select a chat to start messaging",
    "chats.back": "Back to chats",
    "conversation.placeholder": "Type a message",
    "conversation.send": "Send",
    "conversation.messages": "Messages",
    "conversation.load_older": "Load older messages",
    "conversation.beginning": "This is the beginning of your chat.",
    "conversation.new_message_from": "New message from {name}: {text}",
    "conversation.retry": "Retry",
    "conversation.jump_latest": "Jump to latest messages",
    "status.pending": "Sending",
    "status.sent": "Sent",
    "status.delivered": "Delivered",
    "status.read": "Read",
    "status.failed": "Not sent",
    "connection.lost": (
        "Connection lost. Reconnecting… Messages you send will go out when you are back online."
    ),
    "groups.new_group": "New group",
    "groups.name": "Group name",
    "groups.add_people": "Add people",
    "groups.search_people": "Search people to add",
    "groups.create": "Create group",
    "groups.selected_one": "{count} person selected",
    "groups.selected_other": "{count} people selected",
    "groups.info": "Group info",
    "groups.members_one": "{count} member",
    "groups.members_other": "{count} members",
    "groups.you": "You",
    "groups.owner": "Group owner",
    "groups.admin": "Group admin",
    "groups.remove": "Remove {name}",
    "groups.make_admin": "Make {name} an admin",
    "groups.dismiss_admin": "Dismiss {name} as admin",
    "groups.add_members": "Add members",
    "groups.add_selected": "Add to group",
    "groups.leave": "Leave group",
    "groups.rename": "Rename group",
    "groups.save": "Save",
    "groups.not_member": "You can't send messages to this group because you're no longer a member.",
    "system.created": "{actor} created the group “{title}”",
    "system.added": "{actor} added {targets}",
    "system.removed": "{actor} removed {targets}",
    "system.left": "{actor} left",
    "system.renamed": "{actor} changed the group name to “{title}”",
    "system.you": "You",
    "system.you_object": "you",
    "list.pair": "{first} and {second}",
    "list.series": "{first}, {rest}",
    "typing.one": "{name} is typing…",
    "typing.two": "{first} and {second} are typing…",
    "typing.many": "{count} people are typing…",
    "typing.direct": "typing…",
    "presence.online": "online",
    "presence.last_seen_today": "last seen today at {time}",
    "presence.last_seen_yesterday": "last seen yesterday at {time}",
    "presence.last_seen_date": "last seen {date} at {time}",
    "presence.hide_last_seen": "Hide my last seen",
    "settings.title": "Settings",
    "settings.hide_last_seen_hint": (
        "People won't see when you were last online, and you won't see theirs."
    ),
    "message.deleted": "This message was deleted",
    "message.someone": "Someone",
    "message.edited": "edited",
    "message.forwarded": "Forwarded",
    "message.starred": "Starred",
    "message.go_to_original": "Go to the original message",
    "reactions.label": "{emoji} {names}",
    "reactions.quick": "Quick reactions",
    "emoji.open": "Emoji",
    "emoji.title": "Emojis",
    "emoji.search": "Search emoji",
    "emoji.none": "No emoji found",
    "emoji.more_reactions": "More reactions",
    "reactions.react_with": "React with {emoji}",
    "reactions.remove": "Remove your reaction {emoji}",
    "actions.open": "Message actions",
    "actions.title": "Message",
    "actions.reply": "Reply",
    "actions.forward": "Forward",
    "actions.star": "Star",
    "actions.unstar": "Unstar",
    "actions.copy": "Copy",
    "actions.copied": "Copied",
    "actions.edit": "Edit",
    "actions.delete_me": "Delete for me",
    "actions.delete_everyone": "Delete for everyone",
    "actions.edit_title": "Edit message",
    "actions.save": "Save",
    "actions.cancel_reply": "Cancel reply",
    "actions.replying": "Replying to",
    "forward.title": "Forward message to",
    "forward.search": "Search chats",
    "forward.send": "Forward",
    "forward.none": "No chats found",
    "forward.done_one": "Forwarded to {count} chat",
    "forward.done_other": "Forwarded to {count} chats",
    "starred.open": "Starred messages",
    "starred.empty": "No starred messages yet",
    "search.label": "Search messages",
    "search.none": "No messages found",
    "search.results": "Messages",
    "search.in_chat": "Search in this chat",
    "search.older_match": "Older match",
    "search.newer_match": "Newer match",
    "search.filters": "Search filters",
    "search.filter_chat": "Chat",
    "search.any_chat": "All chats",
    "search.filter_sender": "Sender",
    "search.any_sender": "Anyone",
    "search.from_me": "You",
    "search.sender": "{name} (@{username})",
    "search.filter_from": "From",
    "search.filter_to": "To",
    "search.filter_type": "Type",
    "search.any_type": "Any type",
    "search.type_text": "Text",
    "search.type_image": "Photo",
    "search.type_video": "Video",
    "search.type_document": "Document",
    "search.type_voice": "Voice message",
    "search.clear_filters": "Clear filters",
    "search.type_words": "Type a word to search for.",
    "search.more": "More results",
    "search.bad_date": "That is not a date.",
    "search.bad_range": "The start date is after the end date.",
    "search.bad_type": "Choose one of the offered types.",
    "starred.more": "More starred messages",
    "info.title": "Message info",
    "info.open": "Message info",
    "info.read_by": "Read by",
    "info.delivered_to": "Delivered to",
    "info.waiting": "Not delivered yet",
    "info.today_at": "today at {time}",
    "info.yesterday_at": "yesterday at {time}",
    "info.date_at": "{date} at {time}",
    "conversation.unread_one": "{count} unread message",
    "conversation.unread_other": "{count} unread messages",
    "date.today": "Today",
    "date.yesterday": "Yesterday",
    "error.forbidden": "Only group admins can do that.",
    "error.group_full": "A group can have at most {limit} members.",
    "media.attach": "Attach files",
    "media.record_voice": "Record a voice message",
    "media.photo": "Photo",
    "media.open_photo": "Open photo",
    "media.video": "Video",
    "media.voice": "Voice message",
    "media.file": "File",
    "media.download": "Download",
    "media.document_info": "{type} · {size}",
    "media.caption": "Add a caption",
    "media.send": "Send",
    "media.cancel": "Cancel",
    "media.retry": "Retry",
    "media.upload_failed": "Could not upload {name}.",
    "media.recording": "Recording…",
    "media.stop_and_send": "Stop and send",
    "media.previous": "Previous photo or video",
    "media.next": "Next photo or video",
    "media.close": "Close",
    "media.mic_denied": "The microphone is not available.",
    "media.drop_here": "Drop files to send them",
    "media.open_video": "Open the video full screen",
    "media.upload_progress": "Upload progress",
    "media.cancel_upload": "Cancel the upload",
    "media.upload_failed_plain": "The file could not be uploaded.",
    "media.file_gone": "That file is no longer here: attach it again.",
    "media.viewer": "Photos and videos",
    "chat.contact_info": "Contact info",
    "gallery.title": "Media, documents and voice messages",
    "gallery.tab_media": "Photos and videos",
    "gallery.tab_documents": "Documents",
    "gallery.tab_voice": "Voice",
    "gallery.open_video": "Open video",
    "gallery.more": "Show older",
    "gallery.empty_media": "No photos or videos yet.",
    "gallery.empty_documents": "No documents yet.",
    "gallery.empty_voice": "No voice messages yet.",
    "error.generic": "Something went wrong. Please try again.",
    "error.session_ended": "Your session has ended. Reload the page to sign in again.",
    "error.rate_limited": "Too many attempts. Try again in {retry_after} seconds.",
    "error.too_large": "This message is too long ({size} bytes; the limit is {limit}).",
    "error.not_found": "This chat doesn't exist or you are not in it.",
    "error.quota_exceeded": "Your storage is full: this file does not fit.",
}

_catalogues = {"en": CATALOGUE_EN}


def t(key: str, lang: str = "en", **params: object) -> str:
    """The text for ``key`` in ``lang`` (falling back to English), with ``params`` filled in."""
    text = _catalogues.get(lang, CATALOGUE_EN).get(key) or CATALOGUE_EN[key]
    return text.format(**params) if params else text


def tn(key: str, count: int, lang: str = "en", **params: object) -> str:
    """``t`` for a sentence about ``count`` things: picks ``key_one`` or ``key_other``.

    English has two plural forms; languages with more add keys (CLDR rules) when they arrive.
    """
    form = "one" if count == 1 else "other"
    return t(f"{key}_{form}", lang, count=count, **params)


def join_names(names: list[str], lang: str = "en") -> str:
    """ "Alice", "Alice and Bob", "Alice, Bob and Carol" as the language joins them."""
    if len(names) <= 1:
        return "".join(names)
    joined = t("list.pair", lang, first=names[-2], second=names[-1])
    for name in reversed(names[:-2]):
        joined = t("list.series", lang, first=name, rest=joined)
    return joined


def error_text(code: str, message: str, params: dict[str, object], lang: str = "en") -> str:
    """Words for a service error: the catalogue's if it has the code, else the service's own."""
    key = f"error.{code}"
    if key in CATALOGUE_EN:
        try:
            return t(key, lang, **params)
        except KeyError:
            pass
    return message
