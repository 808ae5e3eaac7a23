// Shows a UTC instant in the viewer's own time zone and locale (the server knows neither).
import React from "react";

const DAY = 24 * 60 * 60 * 1000;

function label(date, mode) {
  const time = date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
  if (mode !== "smart") return time;
  const startOfToday = new Date();
  startOfToday.setHours(0, 0, 0, 0);
  const diff = startOfToday - date;
  if (diff <= 0) return time;
  if (diff <= DAY) {
    return new Intl.RelativeTimeFormat(undefined, { numeric: "auto" }).format(-1, "day");
  }
  if (diff <= 6 * DAY) return date.toLocaleDateString(undefined, { weekday: "long" });
  return date.toLocaleDateString(undefined, { year: "2-digit", month: "numeric", day: "numeric" });
}

// "last seen today at {time}" / "... yesterday at {time}" / "... {date} at {time}": the
// sentences come translated from the server, the time and date are formatted here.
function lastSeen(date, { today, yesterday, other }) {
  const time = date.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" });
  const startOfToday = new Date();
  startOfToday.setHours(0, 0, 0, 0);
  const diff = startOfToday - date;
  const sentence = diff <= 0 ? today : diff <= DAY ? yesterday : other;
  const day = date.toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
  return (sentence || "").replace("{time}", time).replace("{date}", day);
}

export function LocalTime({ iso, mode, today, yesterday, other }) {
  if (!iso) return null;
  const date = new Date(iso);
  if (isNaN(date)) return null;
  const text = mode === "last_seen" ? lastSeen(date, { today, yesterday, other }) : label(date, mode);
  return (
    <time dateTime={iso} title={date.toLocaleString()}>
      {text}
    </time>
  );
}
