// "Copy" buttons: <button data-copy="ID" hidden> copies the value (or, for a list, the text of each
// line) of the element with that id, and says so in the element "ID-status". The words come from
// the page (data-copied, data-copy-failed) so they are in its language; the console's English
// otherwise. Without script (or clipboard access) the text stays selectable by hand.
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  button.hidden = false;
  button.addEventListener('click', function () {
    var id = button.getAttribute('data-copy');
    var source = document.getElementById(id);
    if (!source) return;
    var list = source.tagName === 'UL' || source.tagName === 'OL';
    var text = list
      ? Array.prototype.map.call(source.children, function (item) { return item.textContent.trim(); }).join('\n')
      : ('value' in source ? source.value : source.textContent);
    var done = function (ok) {
      var status = document.getElementById(id + '-status');
      if (status) {
        status.textContent = ok
          ? (button.getAttribute('data-copied') || 'Copied.')
          : (button.getAttribute('data-copy-failed') || 'Copy failed: select the text and copy it.');
      }
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { done(false); });
    } else {
      if (source.select) source.select();
      done(false);
    }
  });
});
