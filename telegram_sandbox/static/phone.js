// Refresh the phone view every 2 s when chats or messages change.
// Only the chat list and the conversation are swapped, so typing is not lost.
(() => {
  "use strict";
  const root = document.getElementById("phone");
  if (!root) return;
  let signature = root.dataset.signature;

  const scrollToNewest = () => {
    const box = document.getElementById("messages");
    if (box) box.scrollTop = box.scrollHeight;
  };

  const currentSignature = (chats) =>
    chats
      .slice()
      .sort((a, b) => a.id - b.id)
      .map((c) => `${c.id}:${c.message_count + c.user_message_count}`)
      .join(",");

  async function refresh() {
    try {
      const response = await fetch("/sandbox/chats", { cache: "no-store" });
      if (!response.ok) return;
      if (currentSignature(await response.json()) === signature) return;
      const page = await fetch(window.location.href, { cache: "no-store" });
      const doc = new DOMParser().parseFromString(await page.text(), "text/html");
      for (const id of ["chat-list", "messages"]) {
        const fresh = doc.getElementById(id);
        const current = document.getElementById(id);
        if (fresh && current) current.replaceWith(document.importNode(fresh, true));
      }
      const freshRoot = doc.getElementById("phone");
      if (freshRoot) signature = freshRoot.dataset.signature;
      scrollToNewest();
    } catch (_error) {
      // The sandbox may be restarting; the next tick tries again.
    }
  }

  scrollToNewest();
  window.setInterval(refresh, 2000);
})();
