// "Copy" buttons of the admin console: <button data-copy="ID"> copies the value (or text) of the
// element with that id. Without script (or clipboard access) the field stays selectable by hand.
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  button.hidden = false;
  button.addEventListener('click', function () {
    var source = document.getElementById(button.getAttribute('data-copy'));
    if (!source) return;
    var text = 'value' in source ? source.value : source.textContent;
    var done = function (ok) {
      var status = document.getElementById(button.getAttribute('data-copy') + '-status');
      if (status) status.textContent = ok ? 'Copied.' : 'Copy failed: select the text and copy it.';
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      if (source.select) source.select();
      done(false);
    }
  });
});
