// Live notifications: the stack's WebSocket API pushes {"kind": "notification", "notification": {...}} to every
// open connection of the recipient. The access token travels in the query string (the only place a browser
// WebSocket can put it; functions/socket_authorizer). Reconnects with capped backoff while the user is signed in.

import type { Notification } from './types';

export interface LiveSocket {
  close(): void;
}

export function openNotificationSocket(
  url: string,
  token: () => string | null,
  onNotification: (notification: Notification) => void,
  onState: (connected: boolean) => void,
): LiveSocket {
  let socket: WebSocket | null = null;
  let closed = false;
  let delay = 1000;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const connect = () => {
    const access = token();
    if (closed || !access) return;
    const target = new URL(url);
    target.searchParams.set('token', access);
    socket = new WebSocket(target.toString());
    socket.onopen = () => {
      delay = 1000;
      onState(true);
    };
    socket.onmessage = (event) => {
      try {
        const message = JSON.parse(String(event.data)) as { kind?: string; notification?: Notification };
        if (message.kind === 'notification' && message.notification) onNotification(message.notification);
      } catch {
        // Not ours to show: the socket only carries notifications.
      }
    };
    socket.onclose = () => {
      onState(false);
      if (closed) return;
      timer = setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30_000);
    };
  };

  connect();
  return {
    close() {
      closed = true;
      if (timer) clearTimeout(timer);
      socket?.close();
    },
  };
}
