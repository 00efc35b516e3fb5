// The outbox page's "Simulate open / click" buttons: SES's Open and Click events for one mail.
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-engage]");
  if (!button) return;
  const output = button.parentElement.querySelector("output");
  const body = { message_id: button.dataset.message, kind: button.dataset.engage };
  if (button.dataset.link) body.link = button.dataset.link;
  button.disabled = true;
  try {
    const answer = await fetch("/_local/outbox/engage", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Ecrm-Local": "1" },
      body: JSON.stringify(body),
    });
    output.textContent = answer.ok ? `${body.kind} sent to the bus` : `refused (${answer.status})`;
  } catch (error) {
    output.textContent = `failed: ${error}`;
  } finally {
    button.disabled = false;
  }
});
