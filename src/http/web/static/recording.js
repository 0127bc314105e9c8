// Turn times on the call page link to the recording at that moment (#t=seconds); with JS they seek
// the player on the page and play from there instead of opening the audio on its own.
(function () {
  var player = document.getElementById('recording-player');
  var list = document.getElementById('transcript');
  if (!player || !list) return;
  list.addEventListener('click', function (event) {
    var link = event.target.closest ? event.target.closest('a[data-audio-offset]') : null;
    if (!link) return;
    event.preventDefault();
    player.currentTime = Number(link.getAttribute('data-audio-offset'));
    player.play();
  });
})();
