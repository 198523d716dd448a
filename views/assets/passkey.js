// Passkey buttons on hosted pages (second-factor sign-in and enrolment). Served from /assets so the
// page CSP (script-src 'self') holds; its words come from the page (data-waiting, data-done, data-failed) in the page's language; uses the @simplewebauthn/browser bundle loaded before it.
(function () {
  'use strict';
  var box = document.querySelector('[data-options-url]');
  if (!box || !window.SimpleWebAuthnBrowser) return;
  var button = box.querySelector('button');
  var status = box.querySelector('[role=status]');
  var csrf = (document.querySelector('input[name=_csrf]') || {}).value;
  var nameInput = document.getElementById('passkey-name');
  function post(url, body) {
    return fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json' }, body: JSON.stringify(Object.assign({ _csrf: csrf }, body)) })
      .then(function (r) { return r.json().then(function (j) { if (!r.ok) throw new Error(j.message || 'failed'); return j; }); });
  }
  button.addEventListener('click', function () {
    status.textContent = box.getAttribute('data-waiting') || 'Waiting for your passkey…';
    var registering = box.hasAttribute('data-register');
    post(box.getAttribute('data-options-url'), {})
      .then(function (options) {
        return registering ? SimpleWebAuthnBrowser.startRegistration({ optionsJSON: options }) : SimpleWebAuthnBrowser.startAuthentication({ optionsJSON: options });
      })
      .then(function (response) {
        var body = registering ? { response: response, name: nameInput ? nameInput.value : '' } : response;
        return post(box.getAttribute('data-verify-url'), body);
      })
      .then(function (result) { status.textContent = box.getAttribute('data-done') || 'Done.'; window.location.assign(result.redirect || window.location.href); })
      .catch(function (e) { status.textContent = box.getAttribute('data-failed') || 'That did not work. Try again.'; });
  });
}());
