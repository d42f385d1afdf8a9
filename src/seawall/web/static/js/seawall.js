// Seawall's page behaviour. It lives here, not in the markup, so that the
// Content-Security-Policy can refuse every inline script and event handler.
// Listeners sit on the document, so content htmx swaps in behaves the same.
"use strict";

// <form data-confirm="Question?">: ask before submitting.
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (form instanceof HTMLFormElement && form.dataset.confirm !== undefined) {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
    }
  }
});

// <select data-autosubmit>: submit its form as soon as the choice changes.
document.addEventListener("change", (event) => {
  const field = event.target;
  if (field instanceof HTMLSelectElement && field.dataset.autosubmit !== undefined && field.form) {
    field.form.requestSubmit();
  }
});
