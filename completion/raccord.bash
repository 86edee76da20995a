# bash completion for raccord (installed by CMakeLists.txt into bash-completion's completions directory,
# /usr/share/bash-completion/completions/raccord). Commands, their options and values as `raccord
# COMMAND --help` lists them (tests/completion/raccord_completion_test.sh checks that every command
# and option of --help is offered and that --etat offers every state code of domain/sheet_state.hpp).

_raccord() {
  local cur prev words cword
  if declare -F _init_completion >/dev/null; then
    _init_completion || return
  else
    cur=${COMP_WORDS[COMP_CWORD]}
    prev=${COMP_WORDS[COMP_CWORD - 1]}
    words=("${COMP_WORDS[@]}")
    cword=$COMP_CWORD
  fi

  local commands="init process check cert search show trust nightly daemon"
  local globals="--config --now --help"

  # The command (and trust's subcommand): the first words that are not options or option values.
  local command="" sub="" i w
  for ((i = 1; i < cword; i++)); do
    w=${words[i]}
    case $w in
      --config | --now | --support | --support-email | --date | --protocole | --format | --partenaire | \
        --etat | --raison-sociale | --code-appli | --code-interface | --soumis-depuis | --soumis-jusqua | \
        --type | --reference | --demandeur)
        ((i++))
        continue
        ;;
      -*) continue ;;
    esac
    if [[ -z $command ]]; then
      command=$w
    elif [[ $command == trust && -z $sub ]]; then
      sub=$w
    fi
  done

  # Values of the option before the cursor.
  case $prev in
    --config)
      # An INI file (or any file), and directories to walk into.
      if declare -F _filedir >/dev/null; then _filedir ini; else mapfile -t COMPREPLY < <(compgen -f -- "$cur"); fi
      return
      ;;
    --etat)
      mapfile -t COMPREPLY < <(compgen -W "BROUILLON ENVOYEE ENVOYEE_MAJ ACTIVEE DESACTIVEE" -- "$cur")
      return
      ;;
    --format)
      case $command in
        search) mapfile -t COMPREPLY < <(compgen -W "table csv xml" -- "$cur") ;;
        *) mapfile -t COMPREPLY < <(compgen -W "text xml" -- "$cur") ;;
      esac
      return
      ;;
    --type)
      mapfile -t COMPREPLY < <(compgen -W "EDI API" -- "$cur")
      return
      ;;
    --protocole)
      case $command in
        cert) mapfile -t COMPREPLY < <(compgen -W "PESIT SFTP AS2 API" -- "$cur") ;;
        *) mapfile -t COMPREPLY < <(compgen -W "PESIT SFTP AS2" -- "$cur") ;;
      esac
      return
      ;;
    --now | --support | --support-email | --date | --partenaire | --raison-sociale | --code-appli | \
      --code-interface | --soumis-depuis | --soumis-jusqua | --reference | --demandeur | --compte)
      COMPREPLY=()  # free text: nothing to offer
      return
      ;;
  esac

  local options=""
  case $command in
    "")
      if [[ $cur == -* ]]; then
        mapfile -t COMPREPLY < <(compgen -W "$globals --version" -- "$cur")
      else
        mapfile -t COMPREPLY < <(compgen -W "$commands" -- "$cur")
      fi
      return
      ;;
    init) options="--support --support-email" ;;
    process | daemon) options="" ;;
    nightly) options="--date" ;;
    show) options="--format" ;;
    search)
      options="--partenaire --etat --raison-sociale --code-appli --protocole --code-interface --soumis-depuis
               --soumis-jusqua --type --format --export --reference --demandeur"
      ;;
    check | cert)
      [[ $command == cert ]] && options="--protocole --date --format"
      [[ $command == check ]] && options="--compte"
      if [[ $cur != -* ]]; then
        # Dépôts (check) or a certificate bundle (cert): file names.
        if declare -F _filedir >/dev/null; then _filedir; else mapfile -t COMPREPLY < <(compgen -f -- "$cur"); fi
        return
      fi
      ;;
    trust)
      if [[ -z $sub ]]; then
        if [[ $cur == -* ]]; then
          mapfile -t COMPREPLY < <(compgen -W "$globals" -- "$cur")
        else
          mapfile -t COMPREPLY < <(compgen -W "audit refresh" -- "$cur")
        fi
        return
      fi
      [[ $sub == audit ]] && options="--format"
      ;;
    *) return ;;
  esac
  mapfile -t COMPREPLY < <(compgen -W "$options $globals" -- "$cur")
}
complete -F _raccord raccord
