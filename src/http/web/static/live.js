// Live transcript: appends turns streamed by /calls/:id/events; reloads once the call has ended so
// the scorecard and figures appear. Turn markup is escaped on the server.
(function () {
  var list = document.getElementById('transcript');
  if (!list || !window.EventSource) return;
  var last = list.querySelector('li:last-child');
  var after = last ? last.getAttribute('data-seq') : '-1';
  var source = new EventSource(location.pathname.replace(/\/$/, '') + '/events?after=' + encodeURIComponent(after));
  source.addEventListener('turn', function (event) {
    var turn = JSON.parse(event.data);
    if (list.querySelector('li[data-seq="' + turn.seq + '"]')) return;
    var template = document.createElement('template');
    template.innerHTML = turn.html;
    list.appendChild(template.content);
    var empty = document.getElementById('no-turns');
    if (empty) empty.remove();
  });
  source.addEventListener('end', function () {
    source.close();
    setTimeout(function () { location.reload(); }, 1500);
  });
})();
