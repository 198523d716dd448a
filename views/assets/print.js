// "Print" buttons: <button data-print hidden> opens the browser's print dialog (the print
// stylesheet in gatehouse.css leaves only the page's content). Shown only when script runs.
document.querySelectorAll('button[data-print]').forEach(function (button) {
  button.hidden = false;
  button.addEventListener('click', function () { window.print(); });
});
