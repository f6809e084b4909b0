// Glue between the vendored widget bundle (embed-amd.js) and the book's pages.
// Loaded after require.js and before embed-amd.js (see _config.yml, nb_ipywidgets_js).
//
// 1. The bundle finds its Font Awesome files relative to the URL of its AMD modules,
//    which RequireJS derives from baseUrl (by default: the page's folder, where they do
//    not exist). Point baseUrl at _static/vendor/amd/ and map the one module that lives
//    one folder deeper, so every module looks in amd/@jupyter-widgets/.
// 2. The widgets typeset LaTeX in labels with the MathJax 2 API (MathJax.Hub.Queue);
//    the book loads MathJax 3, which has no Hub. Provide a tiny Hub that forwards to
//    MathJax 3's typesetPromise, instead of letting every widget throw.
(function () {
  "use strict";
  var script = document.currentScript;
  if (script && window.requirejs) {
    var src = script.src.split("?")[0];
    var vendor = src.substring(0, src.lastIndexOf("/") + 1);
    window.requirejs.config({
      baseUrl: vendor + "amd/",
      paths: {
        "@jupyter-widgets/html-manager/dist/libembed-amd": "@jupyter-widgets/libembed-amd",
      },
    });
  }

  function typeset(element) {
    var mathjax = window.MathJax;
    if (!mathjax || !element) {
      return;
    }
    var run = function () {
      if (typeof mathjax.typesetPromise === "function") {
        mathjax.typesetPromise([element]).catch(function () {});
      }
    };
    if (mathjax.startup && mathjax.startup.promise) {
      mathjax.startup.promise.then(run);
    } else {
      run();
    }
  }

  function installHub() {
    var mathjax = window.MathJax;
    if (mathjax && !mathjax.Hub) {
      mathjax.Hub = {
        Queue: function (job) {
          if (Array.isArray(job) && job[0] === "Typeset") {
            typeset(job[2]);
          }
        },
      };
    }
  }

  // MathJax 3 replaces window.MathJax when its script runs (deferred, so before "load");
  // the widgets render on "load", after this listener, which was registered first.
  installHub();
  window.addEventListener("load", installHub);
})();
