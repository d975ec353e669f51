// The pre-join preview before the call's code arrives: on a slow phone
// network the call's bundle takes seconds, the camera a fraction of one.
// Asks for the camera and microphone chosen last time (else any), shows
// them in the preview once the page has it, and leaves the stream in
// window.__huddlePreview for the call's code to adopt (client::media::
// start_preview), which also handles every fallback and error. A page
// without a preview (an ended meeting) stops the camera at once.
(function () {
  var media = navigator.mediaDevices;
  if (!media || !media.getUserMedia) return;
  var chosen = function (key) {
    try {
      var id = localStorage.getItem(key);
      return id ? { deviceId: { exact: id } } : true;
    } catch (e) {
      return true;
    }
  };
  window.__huddlePreview = media
    .getUserMedia({ video: chosen('huddle.camera'), audio: chosen('huddle.microphone') })
    .then(function (stream) {
      var place = function () {
        var video = document.querySelector('video.preview');
        if (!video) {
          stream.getTracks().forEach(function (track) { track.stop(); });
        } else if (!video.srcObject) {
          video.muted = true;
          video.srcObject = stream;
        }
      };
      if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', place);
      else place();
      return stream;
    }, function () {
      return null;
    });
})();
