// Incremental text/event-stream decoder, with the same rules as the SDK's
// `sse` module: `\n`, `\r\n` or `\r` line ends (also split across reads),
// `data:` with or without the space, comment lines, multi-line data, and an
// event with a name but no data still counts. Each event carries the last
// `id:` seen (`id`, as EventSource's lastEventId). Feed it decoded text
// (TextDecoder with `stream: true`, so split UTF-8 characters are fine).

export class SseDecoder {
  constructor() {
    this.buf = "";
    this.skipLf = false;
    this.lastId = "";
    this.reset();
  }

  reset() {
    this.event = null;
    this.data = [];
    this.hasData = false;
  }

  /** Add text; return the events it completes. */
  push(text) {
    const out = [];
    if (this.skipLf && text.length > 0) {
      if (text[0] === "\n") text = text.slice(1);
      this.skipLf = false;
    }
    this.buf += text;
    let start = 0;
    for (let i = 0; i < this.buf.length; i++) {
      const c = this.buf[i];
      if (c !== "\n" && c !== "\r") continue;
      const line = this.buf.slice(start, i);
      if (c === "\r") {
        if (i + 1 < this.buf.length) {
          if (this.buf[i + 1] === "\n") i++;
        } else {
          this.skipLf = true;
        }
      }
      start = i + 1;
      const ev = this.line(line);
      if (ev) out.push(ev);
    }
    this.buf = this.buf.slice(start);
    return out;
  }

  /** The stream ended: a last event without its blank line still counts. */
  finish() {
    const out = [];
    if (this.buf.length > 0) {
      const ev = this.line(this.buf);
      this.buf = "";
      if (ev) out.push(ev);
    }
    const ev = this.line("");
    if (ev) out.push(ev);
    return out;
  }

  line(line) {
    if (line === "") {
      if (!this.hasData && this.event === null) return null;
      const ev = { event: this.event || "message", data: this.data.join("\n"), id: this.lastId };
      this.reset();
      return ev;
    }
    if (line[0] === ":") return null;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value[0] === " ") value = value.slice(1);
    if (field === "event") {
      this.event = value;
    } else if (field === "data") {
      this.data.push(value);
      this.hasData = true;
    } else if (field === "id" && !value.includes("\0")) {
      this.lastId = value;
    }
    return null;
  }
}
