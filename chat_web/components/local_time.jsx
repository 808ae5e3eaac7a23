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

export function LocalTime({ iso, mode }) {
  if (!iso) return null;
  const date = new Date(iso);
  if (isNaN(date)) return null;
  return (
    <time dateTime={iso} title={date.toLocaleString()}>
      {label(date, mode)}
    </time>
  );
}
